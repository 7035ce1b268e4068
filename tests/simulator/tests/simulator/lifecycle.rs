//! Determinism of the data set, the state handle, and releasing the port on shutdown.

use crate::common::{Client, start};
use psa_sim::{Entity, SimConfig, Simulator};

async fn everything(client: &Client) -> Vec<String> {
    let mut bodies = Vec::new();
    for path in [
        "company/companies?pageSize=1000&conditions=deletedFlag%20%3D%20true%20or%20deletedFlag%20%3D%20false",
        "company/contacts?pageSize=1000",
        "finance/agreements?pageSize=1000",
        "company/configurations?pageSize=1000",
        "service/tickets?pageSize=1000",
    ] {
        let r = client.get(path).await;
        assert_eq!(r.status, 200);
        assert!(r.link("next").is_none(), "one page holds it all");
        bodies.push(r.body);
    }
    bodies
}

#[tokio::test]
async fn the_same_seed_serves_the_same_json() {
    let a = start(60, 77).await;
    let b = start(60, 77).await;
    let c = start(60, 78).await;
    let (ca, cb, cc) = (Client::new(&a), Client::new(&b), Client::new(&c));
    let first = everything(&ca).await;
    assert_eq!(first, everything(&cb).await);
    assert_ne!(first, everything(&cc).await);
    for sim in [a, b, c] {
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn the_state_handle_matches_the_api() {
    let sim = start(20, 5).await;
    let client = Client::new(&sim);
    let state = sim.state().clone();
    for entity in [
        Entity::Company,
        Entity::Contact,
        Entity::Agreement,
        Entity::Configuration,
        Entity::Ticket,
    ] {
        assert_eq!(state.ids(entity).len(), state.count(entity));
    }
    let ticket = state.ids(Entity::Ticket)[0];
    let path = format!("service/tickets/{ticket}");
    assert_eq!(
        client.get(&path).await.json(),
        state.get(Entity::Ticket, ticket).unwrap()
    );
    let notes = state.read(|d| d.notes_of(ticket).map(|n| n.id).collect::<Vec<_>>());
    if let Some(note) = notes.first() {
        assert_eq!(state.get(Entity::Note, *note).unwrap()["ticketId"], ticket);
    }
    assert!(state.delete(Entity::Ticket, ticket));
    assert!(!state.delete(Entity::Ticket, ticket));
    assert_eq!(client.get(&path).await.status, 404);
    assert!(
        notes.iter().all(|n| state.get(Entity::Note, *n).is_none()),
        "notes went with the ticket"
    );
    let line = state.ids(Entity::AgreementLine)[0];
    assert!(state.get(Entity::AgreementLine, line).unwrap()["agreementId"].is_u64());
    assert!(state.requests_served() >= 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_releases_the_port() {
    let sim = start(3, 1).await;
    let addr = sim.addr();
    let client = Client::new(&sim);
    assert_eq!(client.get("company/companies").await.status, 200);
    sim.shutdown().await;
    let again = Simulator::start(SimConfig {
        bind: addr,
        ..SimConfig::connectwise(3, 1)
    })
    .await
    .unwrap();
    assert_eq!(again.addr(), addr);
    assert_eq!(
        Client::new(&again).get("company/companies").await.status,
        200
    );
    again.shutdown().await;
}

#[tokio::test]
async fn a_large_configuration_count_pages_through_quickly() {
    let sim = Simulator::start(SimConfig {
        configurations: Some(20_000),
        ..SimConfig::connectwise(50, 3)
    })
    .await
    .unwrap();
    let client = Client::new(&sim);
    let mut url = client.url("company/configurations?pageSize=1000");
    let mut n = 0;
    loop {
        let r = client
            .get_url(&url, &[("pagination-type", "forward-only")])
            .await;
        n += r.ids().len();
        match r.link("next") {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(n, 20_000);
    sim.shutdown().await;
}
