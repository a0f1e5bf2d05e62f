//! The accounts of the points ledger's teachers and students, on SQLite and (when
//! `NIANBAO_TEST_DATABASE_URL` is set) PostgreSQL: a 班主任 or 任课教师 is made with their
//! classes and a student with their 学号, in one step; an account without what its role
//! needs, or with what another role needs, is refused and not made.

use nianbao_core::Role;
use nianbao_store::{NewUser, Scope, Store, StoreError};

async fn stores() -> Vec<(tempfile::TempDir, Store)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open_sqlite(&dir.path().join("test.db"))
        .await
        .unwrap();
    let mut stores = vec![(dir, sqlite)];
    if let Ok(url) = std::env::var("NIANBAO_TEST_DATABASE_URL") {
        stores.push((
            tempfile::tempdir().unwrap(),
            Store::open(&url).await.unwrap(),
        ));
    }
    stores
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{nanos}")
}

const PASSWORD: &str = "a long enough password";

fn new_user<'a>(name: &'a str, role: Role, school: Option<&'a str>) -> NewUser<'a> {
    NewUser {
        name,
        role,
        school_code: school,
        department: None,
        password: PASSWORD,
    }
}

fn classes(list: &[&str]) -> Scope {
    Scope {
        classes: list.iter().map(|c| c.to_string()).collect(),
        student: None,
    }
}

fn student(number: &str) -> Scope {
    Scope {
        classes: Vec::new(),
        student: Some(number.to_string()),
    }
}

#[tokio::test]
async fn teachers_get_their_classes_and_students_their_number() {
    for (_dir, store) in stores().await {
        let head = unique("head-");
        let user = store
            .add_scoped_user(
                &new_user(&head, Role::HeadTeacher, Some("s1")),
                &classes(&[" 汽修2601 ", "数控2601", ""]),
            )
            .await
            .unwrap();
        assert_eq!(user.role, Role::HeadTeacher);
        let scope = store.user_scope(user.id).await.unwrap();
        assert_eq!(scope.classes, vec!["数控2601", "汽修2601"]);
        assert_eq!(scope.student, None);

        let own = unique("student-");
        let user = store
            .add_scoped_user(
                &new_user(&own, Role::Student, Some("s1")),
                &student("S2601001"),
            )
            .await
            .unwrap();
        let scope = store.user_scope(user.id).await.unwrap();
        assert_eq!(scope.student.as_deref(), Some("S2601001"));
        assert!(scope.classes.is_empty());
        // Other accounts reach no class and no student.
        let quality = unique("quality-");
        let user = store
            .add_user(&new_user(&quality, Role::Quality, Some("s1")))
            .await
            .unwrap();
        assert_eq!(store.user_scope(user.id).await.unwrap(), Scope::default());
    }
}

#[tokio::test]
async fn an_account_missing_its_scope_is_refused_and_not_made() {
    for (_dir, store) in stores().await {
        let cases: [(Role, Option<&str>, Scope, &str); 6] = [
            (Role::HeadTeacher, Some("s1"), Scope::default(), "班级"),
            (Role::Teacher, Some("s1"), classes(&["  "]), "班级"),
            (Role::Student, Some("s1"), Scope::default(), "学号"),
            (Role::Student, None, student("S1"), "学校"),
            (Role::Quality, Some("s1"), classes(&["汽修2601"]), "班级"),
            (
                Role::Teacher,
                Some("s1"),
                Scope {
                    classes: vec!["汽修2601".into()],
                    student: Some("S1".into()),
                },
                "学号",
            ),
        ];
        for (role, school, scope, named) in cases {
            let name = unique("refused-");
            let refused = store
                .add_scoped_user(&new_user(&name, role, school), &scope)
                .await
                .unwrap_err();
            assert!(
                matches!(&refused, StoreError::Refused(m) if m.contains(named)),
                "{role:?} {scope:?}: {refused}"
            );
            assert!(
                !store.users().await.unwrap().iter().any(|u| u.name == name),
                "{role:?}: no account made"
            );
        }
    }
}
