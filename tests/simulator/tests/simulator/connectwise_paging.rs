//! Paging (Link headers, forward-only), ordering, /count and query errors.

use std::collections::BTreeSet;

use crate::common::{Client, enc, start};
use psa_sim::{Entity, SimConfig, Simulator};
use serde_json::json;

#[tokio::test]
async fn following_link_headers_returns_every_company_exactly_once() {
    let sim = start(2700, 42).await;
    let client = Client::new(&sim);
    let hidden = sim
        .state()
        .read(|d| d.companies.values().filter(|c| c.deleted).count());
    let expected: BTreeSet<u64> = sim.state().read(|d| {
        d.companies
            .values()
            .filter(|c| !c.deleted)
            .map(|c| c.id)
            .collect()
    });
    assert!(expected.len() > 2500);

    let mut url = client.url("company/companies?pageSize=1000");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let r = client.get_url(&url, &[]).await;
        assert_eq!(r.status, 200);
        let ids = r.ids();
        assert!(ids.len() <= 1000);
        seen.extend(ids);
        pages += 1;
        if pages == 1 {
            assert!(
                r.link("last").unwrap().ends_with("page=3"),
                "{:?}",
                r.header("link")
            );
            assert!(r.link("prev").is_none() && r.link("first").is_none());
        }
        match r.link("next") {
            Some(next) => {
                assert!(next.contains("pageSize=1000"), "params kept: {next}");
                url = next;
            }
            None => {
                assert!(r.link("prev").is_some() && r.link("first").unwrap().ends_with("page=1"));
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen.len(),
        expected.len(),
        "no duplicates, {hidden} deleted companies hidden"
    );
    assert_eq!(seen.iter().copied().collect::<BTreeSet<_>>(), expected);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "id order");

    let count = client.get("company/companies/count").await.json();
    assert_eq!(count, json!({"count": expected.len()}));
    sim.shutdown().await;
}

#[tokio::test]
async fn conditions_and_other_params_survive_on_every_page() {
    let sim = start(60, 3).await;
    let client = Client::new(&sim);
    let cond = enc(r#"status/name = "Active" and name like "*e*""#);
    let expected = client
        .get(&format!("company/companies/count?conditions={cond}"))
        .await
        .json()["count"]
        .as_u64()
        .unwrap();
    assert!(expected > 6);
    let mut url = client.url(&format!(
        "company/companies?conditions={cond}&pageSize=3&orderBy=id%20desc"
    ));
    let mut seen = Vec::new();
    while !url.is_empty() {
        let r = client.get_url(&url, &[]).await;
        for c in r.json().as_array().unwrap() {
            assert_eq!(c["status"]["name"], "Active");
            assert!(c["name"].as_str().unwrap().to_lowercase().contains('e'));
            seen.push(c["id"].as_u64().unwrap());
        }
        url = match r.link("next") {
            Some(next) => {
                assert!(next.contains(&format!("conditions={cond}")), "{next}");
                assert!(next.contains("orderBy=id%20desc"), "{next}");
                next
            }
            None => String::new(),
        };
    }
    assert_eq!(seen.len() as u64, expected);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "id desc order");
    sim.shutdown().await;
}

#[tokio::test]
async fn forward_only_paging_follows_page_ids() {
    let sim = start(30, 4).await;
    let client = Client::new(&sim);
    let all = sim.state().ids(Entity::Configuration);
    let mut url = client.url("company/configurations?pageSize=7&fields=id,name");
    let mut seen = Vec::new();
    let mut first = true;
    loop {
        let r = client
            .get_url(&url, &[("pagination-type", "forward-only")])
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.json();
        for c in page.as_array().unwrap() {
            assert_eq!(c.as_object().unwrap().len(), 2, "fields=id,name: {c}");
        }
        let ids = r.ids();
        if first {
            assert!(r.link("last").is_none(), "forward-only has no last page");
            first = false;
        }
        match r.link("next") {
            Some(next) => {
                assert!(
                    next.ends_with(&format!("pageId={}", ids.last().unwrap())),
                    "{next}"
                );
                assert!(next.contains("fields=id,name"));
                url = next;
            }
            None => {
                seen.extend(ids);
                break;
            }
        }
        seen.extend(ids);
    }
    assert_eq!(seen, all);

    // A pageId is an id, not a position: records after a gap or a deletion still come once.
    let r = client
        .get_url(
            &client.url(&format!(
                "company/configurations?pageSize=3&pageId={}",
                all[10]
            )),
            &[("pagination-type", "forward-only")],
        )
        .await;
    assert_eq!(r.ids(), all[11..14].to_vec());
    let r = client
        .get(&format!("company/configurations?pageId={}", all[10]))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.error().1,
        "pageId: needs the request header 'pagination-type: forward-only'"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn page_size_defaults_to_25_and_is_clamped_to_1000() {
    let sim = Simulator::start(SimConfig {
        configurations: Some(1500),
        ..SimConfig::connectwise(10, 5)
    })
    .await
    .unwrap();
    let client = Client::new(&sim);
    assert_eq!(client.get("company/configurations").await.ids().len(), 25);
    let r = client.get("company/configurations?pageSize=5000").await;
    assert_eq!(r.ids().len(), 1000);
    assert!(r.link("next").unwrap().contains("pageSize=5000&page=2"));
    let r = client
        .get("company/configurations?pageSize=1000&page=2")
        .await;
    assert_eq!(r.ids().len(), 500);
    assert!(r.link("next").is_none());
    let r = client
        .get("company/configurations?pageSize=1000&page=9")
        .await;
    assert_eq!((r.status, r.body.as_str()), (200, "[]"));
    sim.shutdown().await;
}

#[tokio::test]
async fn order_by_any_field_with_id_as_tie_breaker() {
    let sim = start(40, 6).await;
    let client = Client::new(&sim);
    let r = client
        .get("company/companies?orderBy=name%20desc&pageSize=1000&fields=id,name")
        .await;
    let names: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(names, sorted);
    let r = client
        .get("company/contacts?orderBy=company/id,id%20desc&pageSize=1000")
        .await;
    let keys: Vec<(u64, u64)> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["company"]["id"].as_u64().unwrap(),
                u64::MAX - c["id"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]));
    let r = client.get("company/companies?orderBy=nosuch").await;
    assert_eq!(
        (r.status, r.error().1),
        (400, "orderBy: unknown field 'nosuch'".to_string())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_query_parameters_get_400_in_the_connectwise_shape() {
    let sim = start(5, 1).await;
    let client = Client::new(&sim);
    let r = client.get("company/companies?page=abc").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"code": "InvalidObject", "message": "page: 'abc' is not a whole number", "errors": [
            {"code": "InvalidField", "message": "page: 'abc' is not a whole number", "resource": "query", "field": "page"}]})
    );
    let cases = [
        ("pageSize=0", "pageSize: '0' must be 1 or more"),
        (
            "conditions=name%20%3D%20Acme",
            "conditions: expected a value after 'name =' but found 'Acme' at position 8; strings take double quotes",
        ),
        (
            "conditions=id%20%3D%20%22x%22",
            "conditions: field 'id' holds a number and cannot be compared with the string \"x\"",
        ),
        (
            "conditions=nosuch%20%3D%201",
            "conditions: unknown field 'nosuch'",
        ),
        (
            "childConditions=name%20%3D%20%22x%22",
            "childConditions: field 'name' is not in a collection; filter it with conditions",
        ),
        (
            "orderBy=name%20sideways",
            "orderBy: 'sideways' is not a direction; use asc or desc",
        ),
    ];
    for (query, message) in cases {
        let r = client.get(&format!("company/companies?{query}")).await;
        assert_eq!(
            (r.status, r.error()),
            (400, ("InvalidObject".to_string(), message.to_string())),
            "{query}"
        );
    }
    let r = client.get("company/companies/count?conditions=%28").await;
    assert_eq!(r.status, 400);
    let r = client
        .get_url(
            &client.url("company/companies"),
            &[("pagination-type", "backwards")],
        )
        .await;
    assert_eq!(
        r.error().1,
        "pagination-type: 'backwards' is not supported; use forward-only"
    );
    sim.shutdown().await;
}

/// The simulator keeps the ids a listing selected for its next pages; a change of the data
/// between two pages must show, as it would on the PSA: a company deleted from page 1 shifts
/// page 2 by one, and the last page's number follows the count.
#[tokio::test]
async fn a_change_between_pages_shows_on_the_next_page() {
    let sim = start(30, 7).await;
    let client = Client::new(&sim);
    let url = |page: usize| client.url(&format!("company/companies?pageSize=10&page={page}"));
    let first = client.get_url(&url(1), &[]).await;
    let page_two = client.get_url(&url(2), &[]).await.ids();
    let again = client.get_url(&url(2), &[]).await.ids();
    assert_eq!(page_two, again, "the kept listing answers the same page");
    let visible = first.ids().len() + page_two.len();
    assert_eq!(visible, 20);

    assert!(sim.state().delete(Entity::Company, first.ids()[0]));
    let shifted = client.get_url(&url(2), &[]).await;
    assert_eq!(shifted.ids()[..9], page_two[1..], "page 2 moved up by one");
    let count = client.get("company/companies/count").await.json()["count"]
        .as_u64()
        .unwrap() as usize;
    let last = count.div_ceil(10);
    assert!(
        shifted
            .link("last")
            .unwrap()
            .ends_with(&format!("page={last}")),
        "{:?}",
        shifted.header("link")
    );
    sim.shutdown().await;
}
