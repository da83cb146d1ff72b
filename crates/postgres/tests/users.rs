#![allow(clippy::unwrap_used)] // a failing test should stop at the failing step
mod common;

use common::{database_with, stored_user, user};
use whisper_domain::ports::UserRepository;
use whisper_domain::{Clash, DomainError, Email, Missing, UserId, Username};
use whisper_postgres::PgUsers;
use whisper_postgres::testing::TestDatabase;

#[tokio::test]
async fn a_stored_user_is_found_by_id_and_by_email_unchanged() {
    let (db, [ada]) = database_with(["ada"]).await;
    let users = PgUsers::new(db.database.clone());
    assert_eq!(users.find_by_id(&ada.id).await.unwrap(), Some(ada.clone()));
    assert_eq!(users.find_by_email(&ada.email).await.unwrap(), Some(ada));
    assert_eq!(users.find_by_id(&UserId::generate()).await.unwrap(), None);
    let nobody = Email::parse("nobody@example.org").unwrap();
    assert_eq!(users.find_by_email(&nobody).await.unwrap(), None);
}

#[tokio::test]
async fn emails_and_usernames_ignoring_case_are_unique() {
    let (db, [ada]) = database_with(["ada"]).await;
    let users = PgUsers::new(db.database.clone());

    let mut same_email = user("grace");
    same_email.email = ada.email.clone();
    assert_eq!(
        users.insert(&same_email).await.unwrap_err(),
        DomainError::Conflict(Clash::EmailTaken)
    );

    let mut same_name = user("grace");
    same_name.username = Username::parse("ADA").unwrap();
    assert_eq!(
        users.insert(&same_name).await.unwrap_err(),
        DomainError::Conflict(Clash::UsernameTaken)
    );
}

#[tokio::test]
async fn renaming_records_the_choice_and_refuses_a_taken_name() {
    let (db, [ada]) = database_with(["ada"]).await;
    let users = PgUsers::new(db.database.clone());
    stored_user(&db, "grace").await;

    let renamed = users
        .rename(&ada.id, &Username::parse("countess").unwrap(), false)
        .await
        .unwrap();
    assert_eq!(renamed.username.as_str(), "countess");
    assert!(!renamed.is_username_set);

    let taken = users
        .rename(&ada.id, &Username::parse("Grace").unwrap(), true)
        .await;
    assert_eq!(
        taken.unwrap_err(),
        DomainError::Conflict(Clash::UsernameTaken)
    );
    let unknown = users
        .rename(&UserId::generate(), &Username::parse("x_y").unwrap(), true)
        .await;
    assert_eq!(unknown.unwrap_err(), DomainError::NotFound(Missing::User));
}

#[tokio::test]
async fn the_online_flag_reports_only_real_changes() {
    let (db, [ada]) = database_with(["ada"]).await;
    let users = PgUsers::new(db.database.clone());
    assert!(users.set_online(&ada.id, true).await.unwrap());
    assert!(!users.set_online(&ada.id, true).await.unwrap());
    assert!(users.find_by_id(&ada.id).await.unwrap().unwrap().is_online);
    assert!(users.set_online(&ada.id, false).await.unwrap());
    assert!(!users.set_online(&UserId::generate(), true).await.unwrap());
}

#[tokio::test]
async fn search_matches_a_username_prefix_ignoring_case_ordered_and_limited() {
    let db = TestDatabase::create().await;
    let users = PgUsers::new(db.database.clone());
    for name in ["Adam", "ada", "adele", "bob", "ad_x", "adzz"] {
        stored_user(&db, name).await;
    }
    let names = |found: Vec<whisper_domain::User>| {
        found
            .into_iter()
            .map(|u| u.username.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(users.search_by_username("AD", 50).await.unwrap()),
        ["ad_x", "ada", "Adam", "adele", "adzz"]
    );
    assert_eq!(
        names(users.search_by_username("ad", 2).await.unwrap()),
        ["ad_x", "ada"]
    );
    // A LIKE wildcard in the prefix is matched literally.
    assert_eq!(
        names(users.search_by_username("ad_", 50).await.unwrap()),
        ["ad_x"]
    );
    assert_eq!(
        names(users.search_by_username("%", 50).await.unwrap()),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn find_many_returns_only_existing_accounts() {
    let (db, [ada, grace]) = database_with(["ada", "grace"]).await;
    let users = PgUsers::new(db.database.clone());
    let mut found = users
        .find_many(&[ada.id.clone(), UserId::generate(), grace.id.clone()])
        .await
        .unwrap();
    found.sort_by(|a, b| a.username.as_str().cmp(b.username.as_str()));
    assert_eq!(found, [ada, grace]);
    assert!(users.find_many(&[]).await.unwrap().is_empty());
}

#[derive(diesel::QueryableByName)]
struct Link {
    #[diesel(sql_type = diesel::sql_types::Text)]
    user_id: String,
}

#[tokio::test]
async fn an_identity_link_is_recorded_once_and_follows_the_latest_account() {
    use diesel::sql_query;
    use diesel_async::RunQueryDsl;

    let (db, [ada, bob]) = database_with(["ada", "bob"]).await;
    let users = PgUsers::new(db.database.clone());
    users
        .link_identity(&ada.id, "google-oauth2", "sub-1")
        .await
        .unwrap();
    users
        .link_identity(&ada.id, "google-oauth2", "sub-1")
        .await
        .unwrap();
    let links = |db: &TestDatabase| {
        let database = db.database.clone();
        async move {
            let mut conn = database.connection().await.unwrap();
            sql_query("SELECT user_id FROM social_identities")
                .load::<Link>(&mut conn)
                .await
                .unwrap()
                .into_iter()
                .map(|link| link.user_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(links(&db).await, [ada.id.to_string()]);
    users
        .link_identity(&bob.id, "google-oauth2", "sub-1")
        .await
        .unwrap();
    assert_eq!(links(&db).await, [bob.id.to_string()]);
}
