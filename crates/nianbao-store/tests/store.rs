//! The store on a real SQLite file, and on PostgreSQL when `NIANBAO_TEST_DATABASE_URL`
//! names a server (`.ci/run` creates a fresh database and sets it).

use nianbao_core::{Dataset, FactKey, Major, OrgPath, School, Year};
use nianbao_store::Store;

fn year(y: i64) -> Year {
    Year::new(y).unwrap()
}

fn dataset(code: &str) -> Dataset {
    let school = School {
        code: code.into(),
        name: format!("测试学校{code}"),
        org_unit: OrgPath {
            province: "某省".into(),
            city: "某市".into(),
            district: "某区".into(),
        },
        departments: vec!["信息技术部".into(), "现代服务部".into()],
        report_year: year(2025),
        ..School::default()
    };
    let mut data = Dataset::new(school);
    data.majors.push(Major {
        name: "会计事务".into(),
        category: "财经商贸类".into(),
        department: "现代服务部".into(),
    });
    data.majors.push(Major {
        name: "电子商务".into(),
        category: "财经商贸类".into(),
        department: String::new(),
    });
    data.set(FactKey::school(year(2025), "staff.total"), 639.0);
    data.set(
        FactKey::school(year(2025), "conditions.land_area"),
        329800.11,
    );
    data.set(
        FactKey::major(year(2025), "major.intake", "会计事务"),
        213.0,
    );
    data.notes
        .insert(FactKey::school(year(2025), "staff.total"), "含外聘".into());
    data
}

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

/// A school code unique to this test run, so runs against one PostgreSQL database do not collide.
fn code(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{nanos}")
}

#[tokio::test]
async fn a_saved_dataset_loads_back_unchanged() {
    for (_dir, store) in stores().await {
        let data = dataset(&code("roundtrip"));
        let summary = store.save_dataset(&data, "tester").await.unwrap();
        assert_eq!(summary.added, 3);
        assert_eq!(
            store.load_dataset(&data.school.code).await.unwrap(),
            data,
            "{:?}",
            store.backend()
        );
        assert!(
            store
                .schools()
                .await
                .unwrap()
                .iter()
                .any(|s| s.code == data.school.code)
        );
    }
}

#[tokio::test]
async fn every_change_is_logged_with_old_and_new_values() {
    for (_dir, store) in stores().await {
        let mut data = dataset(&code("history"));
        store.save_dataset(&data, "first").await.unwrap();
        data.set(FactKey::school(year(2025), "staff.total"), 640.0);
        data.facts
            .remove(&FactKey::school(year(2025), "conditions.land_area"));
        let summary = store.save_dataset(&data, "second").await.unwrap();
        assert_eq!((summary.added, summary.changed, summary.removed), (0, 1, 1));
        let history = store.history(&data.school.code, 10).await.unwrap();
        let change = history
            .iter()
            .find(|c| c.record == "2025 staff.total" && c.actor == "second")
            .unwrap();
        assert_eq!(
            (change.old_value.as_deref(), change.new_value.as_deref()),
            (Some("639"), Some("640"))
        );
        assert!(change.changed_at.starts_with("20"), "{}", change.changed_at);
        let removed = history
            .iter()
            .find(|c| c.record == "2025 conditions.land_area")
            .unwrap();
        assert_eq!(removed.new_value, None);
        // Saving the same data again changes nothing and logs nothing.
        assert_eq!(
            store.save_dataset(&data, "third").await.unwrap(),
            Default::default()
        );
        assert!(
            store
                .history(&data.school.code, 100)
                .await
                .unwrap()
                .iter()
                .all(|c| c.actor != "third")
        );
    }
}

#[tokio::test]
async fn a_failed_save_leaves_the_store_as_it_was() {
    for (_dir, store) in stores().await {
        let data = dataset(&code("atomic"));
        store.save_dataset(&data, "tester").await.unwrap();
        let mut broken = data.clone();
        broken.set(FactKey::school(year(2025), "staff.total"), 1.0);
        // Two majors with one name violate the primary key halfway through the save.
        broken.majors.push(broken.majors[0].clone());
        assert!(store.save_dataset(&broken, "tester").await.is_err());
        assert_eq!(store.load_dataset(&data.school.code).await.unwrap(), data);
    }
}

#[tokio::test]
async fn an_unknown_school_is_a_clear_error() {
    for (_dir, store) in stores().await {
        let err = store.load_dataset("no-such-school").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "数据库中没有代码为「no-such-school」的学校"
        );
    }
}

mod property {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use nianbao_core::Definitions;
    use proptest::prelude::*;

    static CASE: AtomicUsize = AtomicUsize::new(0);

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// load(save(x)) == x on every backend, and saving it again changes nothing.
        #[test]
        fn any_dataset_loads_back_unchanged(
            data in nianbao_core::arbitrary::dataset(&Definitions::builtin().unwrap())
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                for (_dir, store) in super::stores().await {
                    let mut data = data.clone();
                    let case = CASE.fetch_add(1, Ordering::Relaxed);
                    data.school.code = super::code(&format!("prop{case}"));
                    store.save_dataset(&data, "proptest").await.unwrap();
                    let back = store.load_dataset(&data.school.code).await.unwrap();
                    assert_eq!(back, data, "{:?}", store.backend());
                    assert_eq!(store.save_dataset(&back, "proptest").await.unwrap(), Default::default());
                }
            });
        }
    }
}

#[tokio::test]
async fn passwords_are_hashed_and_checked() {
    use nianbao_core::Role;
    use nianbao_store::NewUser;
    for (_dir, store) in stores().await {
        let name = code("user");
        let new = NewUser {
            name: &name,
            role: Role::Quality,
            school_code: None,
            department: None,
            password: "s3cret-enough",
        };
        let user = store.add_user(&new).await.unwrap();
        assert_eq!(user.role, Role::Quality);
        assert_eq!(
            store.authenticate(&name, "s3cret-enough").await.unwrap(),
            Some(user)
        );
        assert_eq!(
            store.authenticate(&name, "wrong password").await.unwrap(),
            None
        );
        assert_eq!(
            store.authenticate("nobody", "s3cret-enough").await.unwrap(),
            None
        );
        let hash = nianbao_store::hash_password("s3cret-enough").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("s3cret"));
    }
}

#[tokio::test]
async fn a_second_edit_of_the_same_fact_is_refused_and_leaves_the_first() {
    use nianbao_store::{FactEdit, StoreError};
    for (_dir, store) in stores().await {
        let data = dataset(&code("cas"));
        store.save_dataset(&data, "import").await.unwrap();
        let key = FactKey::school(year(2025), "staff.total");
        let edit = |value| FactEdit {
            key: key.clone(),
            expected: Some(639.0),
            value: Some(value),
        };
        // Both users opened the form when the value was 639.
        store
            .edit_facts(&data.school.code, &[edit(640.0)], "甲")
            .await
            .unwrap();
        let other = FactEdit {
            key: FactKey::school(year(2025), "conditions.land_area"),
            expected: Some(329800.11),
            value: Some(1.0),
        };
        let err = store
            .edit_facts(&data.school.code, &[other, edit(641.0)], "乙")
            .await
            .unwrap_err();
        let StoreError::Conflict(conflict) = &err else {
            panic!("{err}")
        };
        assert_eq!(conflict.found, Some(640.0));
        assert_eq!(conflict.changed_by.as_deref(), Some("甲"));
        assert!(err.to_string().contains("没有保存"), "{err}");
        let now = store.load_dataset(&data.school.code).await.unwrap();
        assert_eq!(now.facts.get(&key).copied(), Some(640.0));
        // The other edit in the refused batch was not written either.
        assert_eq!(
            now.facts
                .get(&FactKey::school(year(2025), "conditions.land_area"))
                .copied(),
            Some(329800.11)
        );
    }
}

#[tokio::test]
async fn concurrent_edits_of_one_fact_let_exactly_one_through() {
    use nianbao_store::FactEdit;
    for (_dir, store) in stores().await {
        let data = dataset(&code("race"));
        store.save_dataset(&data, "import").await.unwrap();
        let key = FactKey::school(year(2025), "staff.total");
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                let code = data.school.code.clone();
                let key = key.clone();
                tokio::spawn(async move {
                    let edit = FactEdit {
                        key,
                        expected: Some(639.0),
                        value: Some(700.0 + f64::from(i)),
                    };
                    store.edit_facts(&code, &[edit], &format!("用户{i}")).await
                })
            })
            .collect();
        let mut applied = 0;
        for task in tasks {
            if task.await.unwrap().is_ok() {
                applied += 1;
            }
        }
        assert_eq!(applied, 1, "{:?}", store.backend());
    }
}

#[tokio::test]
async fn a_change_can_be_reverted_while_nobody_changed_it_since() {
    use nianbao_store::{FactEdit, StoreError};
    for (_dir, store) in stores().await {
        let data = dataset(&code("revert"));
        store.save_dataset(&data, "import").await.unwrap();
        let key = FactKey::school(year(2025), "staff.total");
        let set = |from, to| FactEdit {
            key: key.clone(),
            expected: Some(from),
            value: Some(to),
        };
        store
            .edit_facts(&data.school.code, &[set(639.0, 650.0)], "甲")
            .await
            .unwrap();
        let first = store.history(&data.school.code, 1).await.unwrap()[0].id;
        store
            .edit_facts(&data.school.code, &[set(650.0, 660.0)], "乙")
            .await
            .unwrap();
        let second = store.history(&data.school.code, 1).await.unwrap()[0].id;
        // The first change was overwritten since: undoing it would lose 660.
        assert!(matches!(
            store.revert(&data.school.code, first, "丙").await,
            Err(StoreError::Conflict(_))
        ));
        store.revert(&data.school.code, second, "丙").await.unwrap();
        let now = store.load_dataset(&data.school.code).await.unwrap();
        assert_eq!(now.facts.get(&key).copied(), Some(650.0));
        let last = &store.history(&data.school.code, 1).await.unwrap()[0];
        assert_eq!(
            (
                last.actor.as_str(),
                last.old_value.as_deref(),
                last.new_value.as_deref()
            ),
            ("丙", Some("660"), Some("650"))
        );
    }
}

#[tokio::test]
async fn sessions_expire_and_sections_have_owners() {
    use nianbao_core::Role;
    use nianbao_store::NewUser;
    for (_dir, store) in stores().await {
        let data = dataset(&code("session"));
        store.save_dataset(&data, "import").await.unwrap();
        let name = code("user");
        let user = store
            .add_user(&NewUser {
                name: &name,
                role: Role::Quality,
                school_code: Some(&data.school.code),
                department: None,
                password: "a long password",
            })
            .await
            .unwrap();
        let token = code("token");
        store
            .create_session(user.id, &token, "csrf", 2_000, 1_000)
            .await
            .unwrap();
        let (found, csrf) = store.session(&token, 1_500).await.unwrap().unwrap();
        assert_eq!((found.id, csrf.as_str()), (user.id, "csrf"));
        assert!(store.session(&token, 2_001).await.unwrap().is_none());
        store.delete_session(&token).await.unwrap();
        assert!(store.session(&token, 1_500).await.unwrap().is_none());

        store
            .set_section_owner(&data.school.code, "1.4", Some("人事处"), "质量办")
            .await
            .unwrap();
        let owners = store.section_owners(&data.school.code).await.unwrap();
        assert_eq!(owners.get("1.4").map(String::as_str), Some("人事处"));
        store
            .set_section_owner(&data.school.code, "1.4", None, "质量办")
            .await
            .unwrap();
        assert!(
            store
                .section_owners(&data.school.code)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn every_write_to_a_school_raises_its_revision_and_reads_leave_it() {
    for (_dir, store) in stores().await {
        let mut data = dataset(&code("revision"));
        let other = dataset(&code("revision-other"));
        let code = data.school.code.clone();
        assert_eq!(
            store.revision(&code).await.unwrap(),
            0,
            "no such school yet"
        );
        store.save_dataset(&data, "tester").await.unwrap();
        store.save_dataset(&other, "tester").await.unwrap();
        let mut seen = store.revision(&code).await.unwrap();
        assert!(seen > 0, "{:?}", store.backend());

        // Reads leave it alone.
        store.load_dataset(&code).await.unwrap();
        store.history(&code, 10).await.unwrap();
        assert_eq!(store.revision(&code).await.unwrap(), seen);

        // A fact, a section's department and another school's write.
        data.set(FactKey::school(year(2025), "staff.total"), 641.0);
        store.save_dataset(&data, "tester").await.unwrap();
        let after_fact = store.revision(&code).await.unwrap();
        assert!(after_fact > seen, "{:?}", store.backend());
        seen = after_fact;
        store
            .set_section_owner(&code, "1.4", Some("信息技术部"), "tester")
            .await
            .unwrap();
        let after_owner = store.revision(&code).await.unwrap();
        assert!(after_owner > seen, "{:?}", store.backend());
        let id = store
            .add_comment(&code, year(2025), "1.4", None, "请核对", "reviewer")
            .await
            .unwrap();
        let after_comment = store.revision(&code).await.unwrap();
        assert!(after_comment > after_owner, "{:?}", store.backend());
        store.resolve_comment(&code, id, "tester").await.unwrap();
        let after_owner = store.revision(&code).await.unwrap();
        assert!(after_owner > after_comment, "{:?}", store.backend());
        let mut other = other;
        other.set(FactKey::school(year(2025), "staff.total"), 1.0);
        store.save_dataset(&other, "tester").await.unwrap();
        assert_eq!(
            store.revision(&code).await.unwrap(),
            after_owner,
            "another school's write leaves this school's revision"
        );

        // A write through another connection, as another process makes it.
        if store.backend() == nianbao_store::Backend::Sqlite {
            let path = _dir.path().join("test.db");
            let second = Store::open_sqlite(&path).await.unwrap();
            data.set(FactKey::school(year(2025), "staff.total"), 642.0);
            second.save_dataset(&data, "cli").await.unwrap();
            assert!(store.revision(&code).await.unwrap() > after_owner);
        }
    }
}
