//! Configuration fields of contract 0.2.0: ConnectWise questions (replaced by PATCH, kept to
//! the type's questions when the type changes, the integration-owned types refused), Autotask
//! user-defined fields (created, merged by name, from the type's questions) and type changes.

use psa_sim::{DataSet, Id};
use serde_json::{Value, json};

use super::common::autotask::{self, At};
use super::common::{Client, start};

/// A configuration of `type_id` (Workstation 1, Server 3, ...).
fn of_type(d: &DataSet, type_id: Id) -> Id {
    d.configurations
        .values()
        .find(|c| c.type_id == type_id && d.company_live(c.company_id))
        .expect("a configuration of the type")
        .id
}

#[tokio::test]
async fn connectwise_questions_are_replaced_and_follow_the_type() {
    let sim = start(50, 1).await;
    let client = Client::new(&sim);
    let id = sim.state().read(|d| of_type(d, 1));
    let path = format!("company/configurations/{id}");
    // Workstation asks 10 Operating system and 11 Primary user.
    let r = client
        .patch(
            &path,
            &json!([{"op": "replace", "path": "questions",
                "value": [{"questionId": 11, "answer": "Reception"}]}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let questions = client.get(&path).await.json()["questions"].clone();
    assert_eq!(questions.as_array().unwrap().len(), 1, "{questions}");
    assert_eq!(questions[0]["questionId"], 11);
    assert_eq!(questions[0]["question"], "Primary user");
    assert_eq!(questions[0]["answer"], "Reception");
    assert_eq!(questions[0]["sequenceNumber"], 2.0);
    assert_eq!(questions[0]["fieldType"], "Text");
    // A question of another type is refused.
    let r = client
        .patch(
            &path,
            &json!([{"op": "replace", "path": "questions",
                "value": [{"questionId": 30, "answer": "File server"}]}]),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["field"], "questions");
    // Laptop asks the same questions: the answer stays. Server does not: it goes.
    let r = client
        .patch(
            &path,
            &json!([{"op": "replace", "path": "type/id", "value": 2}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["type"]["name"], "Laptop");
    assert!(r.json()["questions"].is_array());
    let r = client
        .patch(
            &path,
            &json!([{"op": "replace", "path": "type/id", "value": 3}]),
        )
        .await;
    assert_eq!(r.json()["type"]["name"], "Server");
    assert_eq!(r.json()["questions"], json!([]));
    // Type and answers in one patch: the answer is checked against the new type.
    let r = client
        .patch(
            &path,
            &json!([{"op": "replace", "path": "type", "value": {"name": "Workstation"}},
                    {"op": "replace", "path": "questions",
                     "value": [{"questionId": 10, "answer": "Windows 11 Pro"}]}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["questions"][0]["question"], "Operating system");
    sim.shutdown().await;
}

#[tokio::test]
async fn connectwise_refuses_every_integration_owned_type() {
    let sim = start(50, 1).await;
    let client = Client::new(&sim);
    let locked: Vec<(Id, String)> = sim.state().read(|d| {
        d.configurations
            .values()
            .filter_map(|c| {
                let kind = d.picklists.configuration_type(c.type_id)?;
                (!kind.api_updatable).then(|| (c.id, kind.name.clone()))
            })
            .collect()
    });
    let kinds: std::collections::HashSet<&str> = locked.iter().map(|(_, k)| k.as_str()).collect();
    assert!(
        locked.len() >= 5 && kinds.len() >= 3,
        "generated: {kinds:?}"
    );
    for (id, kind) in &locked {
        let r = client
            .patch(
                &format!("company/configurations/{id}"),
                &json!([{"op": "replace", "path": "notes", "value": "x"}]),
            )
            .await;
        assert_eq!(r.status, 400, "{id}");
        assert_eq!(
            r.json(),
            json!({"code": "InvalidObject", "message": "Configuration object is invalid",
                "errors": [{"code": "InvalidField",
                    "message": format!("Configurations of type '{kind}' cannot be updated through the API."),
                    "resource": "configuration", "field": "type"}]})
        );
    }
    // Nor may a patch move a configuration to one of them.
    let id = sim.state().read(|d| of_type(d, 1));
    let r = client
        .patch(
            &format!("company/configurations/{id}"),
            &json!([{"op": "replace", "path": "type/id", "value": 13}]),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["field"], "type");
    sim.shutdown().await;
}

fn udf<'a>(item: &'a Value, name: &str) -> Option<&'a Value> {
    item["userDefinedFields"]
        .as_array()?
        .iter()
        .find(|u| u["name"] == name)
        .map(|u| &u["value"])
}

#[tokio::test]
async fn autotask_user_defined_fields_and_type_changes() {
    let sim = autotask::start(50, 1).await;
    let at = At::new(&sim);
    // Generated items show their answers as user-defined fields.
    let (generated, answer) = sim.state().read(|d| {
        let c = d
            .configurations
            .values()
            .find(|c| c.type_id == 1 && c.questions.iter().any(|q| q.question_id == 10))
            .unwrap();
        let answer = c.questions.iter().find(|q| q.question_id == 10).unwrap();
        (c.id, answer.answer.clone().unwrap())
    });
    let item = at.item("ConfigurationItems", generated).await;
    assert_eq!(udf(&item, "Operating system"), Some(&json!(answer)));
    let company = sim.state().read(|d| {
        d.configurations
            .values()
            .find(|c| d.company_live(c.company_id))
            .unwrap()
            .company_id
    });
    let r = at
        .post(
            "ConfigurationItems",
            &json!({"companyID": company, "configurationItemType": 1, "productID": 2001,
                "isActive": true, "referenceTitle": "NEW-WS01",
                "userDefinedFields": [{"name": "Asset Owner", "value": "Front desk"},
                                      {"name": "Backup Plan", "value": null}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["itemId"].as_u64().unwrap();
    let item = at.item("ConfigurationItems", id).await;
    assert_eq!(udf(&item, "Asset Owner"), Some(&json!("Front desk")));
    assert_eq!(udf(&item, "Backup Plan"), Some(&Value::Null));
    // A patch changes the named fields only, and may change the type.
    let r = at
        .patch(
            "ConfigurationItems",
            &json!({"id": id, "configurationItemType": 3,
                "userDefinedFields": [{"name": "backup plan", "value": "Nightly"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let item = at.item("ConfigurationItems", id).await;
    assert_eq!(item["configurationItemType"], 3);
    assert_eq!(udf(&item, "Asset Owner"), Some(&json!("Front desk")));
    assert_eq!(udf(&item, "backup plan"), Some(&json!("Nightly")));
    assert_eq!(item["userDefinedFields"].as_array().unwrap().len(), 2);
    // A field without a name is refused, and nothing changes.
    let r = at
        .patch(
            "ConfigurationItems",
            &json!({"id": id, "userDefinedFields": [{"value": "x"}], "referenceTitle": "Y"}),
        )
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.errors(),
        vec![r#"Invalid value {"value":"x"} for field userDefinedFields."#.to_string()]
    );
    assert_eq!(
        at.item("ConfigurationItems", id).await["referenceTitle"],
        "NEW-WS01"
    );
    sim.shutdown().await;
}
