//! Accounts of the people who sign in: argon2 password hashes, roles and departments.
//! Passwords are never stored or logged, only their hashes.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use nianbao_core::Role;
use sqlx::Row;

use crate::{Store, StoreError};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A user as the account list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: User,
    pub disabled: bool,
    pub created_at: String,
}

/// A hash of a password nobody has, checked when a sign-in names an unknown user so that
/// the answer takes as long as for a wrong password and names cannot be found by timing.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password("a password that no account has, only hashed for timing").unwrap_or_default()
    })
}

/// A user as stored (without the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The school the user works for; `None` for a reviewer who reads every school.
    pub school_code: Option<String>,
    pub department: Option<String>,
}

/// What is needed to create a user.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub role: Role,
    pub school_code: Option<&'a str>,
    pub department: Option<&'a str>,
    pub password: &'a str,
}

/// What a points-only account reaches besides its school: the classes of a 班主任 or a
/// 任课教师, the 学号 of a student's own account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub classes: Vec<String>,
    pub student: Option<String>,
}

impl Scope {
    fn check(&self, role: Role, school: Option<&str>) -> Result<(), StoreError> {
        let refuse = |m: String| Err(StoreError::Refused(m));
        if role.points_only() && school.is_none() {
            return refuse(format!("{}账号须属于一所学校", role.label()));
        }
        if role.needs_classes() && self.classes.is_empty() {
            return refuse(format!(
                "{}账号须指定所教的班级（如 --class 汽修2301，可写多次）",
                role.label()
            ));
        }
        if !role.needs_classes() && !self.classes.is_empty() {
            return refuse(format!(
                "只有班主任和任课教师账号可以指定班级，{}不能",
                role.label()
            ));
        }
        match (&self.student, role.needs_student()) {
            (None, true) => refuse("学生账号须指定本人的学号（--student 学号）".into()),
            (Some(_), false) => refuse(format!("只有学生账号可以指定学号，{}不能", role.label())),
            _ => Ok(()),
        }
    }
}

/// An argon2id hash of the password in PHC string form.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::WeakPassword(MIN_PASSWORD_CHARS));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| StoreError::Password(e.to_string()))
}

/// Whether `password` matches the stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

async fn user_id(conn: &mut sqlx::AnyConnection, name: &str) -> Result<i64, StoreError> {
    sqlx::query("SELECT id FROM app_user WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::UnknownUser(name.to_string()))?
        .try_get(0)
        .map_err(StoreError::from)
}

pub(crate) fn user_of(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: role
            .parse()
            .map_err(|e: nianbao_core::account::UnknownRole| StoreError::Corrupt(e.to_string()))?,
        school_code: row.try_get("school_code")?,
        department: row.try_get("department")?,
    })
}

impl Store {
    /// Creates a user with a hashed password.
    pub async fn add_user(&self, new: &NewUser<'_>) -> Result<User, StoreError> {
        self.add_scoped_user(new, &Scope::default()).await
    }

    /// Creates a user with a hashed password and, for a 班主任, 任课教师 or student, the
    /// classes or the 学号 the account reaches, in one transaction.
    pub async fn add_scoped_user(
        &self,
        new: &NewUser<'_>,
        scope: &Scope,
    ) -> Result<User, StoreError> {
        let scope = Scope {
            classes: scope
                .classes
                .iter()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect(),
            student: scope
                .student
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        };
        scope.check(new.role, new.school_code)?;
        let department = new.department.map(str::trim).filter(|d| !d.is_empty());
        if new.role.needs_department() && department.is_none() {
            return Err(StoreError::DepartmentRequired(new.role.label().to_string()));
        }
        let hash = hash_password(new.password)?;
        let mut tx = self.db.write().await?;
        let exists = sqlx::query("SELECT id FROM app_user WHERE name = $1")
            .bind(new.name)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::UserExists(new.name.to_string()));
        }
        let sql = format!(
            "INSERT INTO app_user (name, role, school_code, department, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, {}) RETURNING id, name, role, school_code, department",
            self.now_sql()
        );
        let row = sqlx::query(&sql)
            .bind(new.name)
            .bind(new.role.code())
            .bind(new.school_code)
            .bind(department)
            .bind(hash)
            .fetch_one(&mut *tx)
            .await?;
        let user = user_of(&row)?;
        for class in &scope.classes {
            sqlx::query(
                "INSERT INTO user_class (user_id, class) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(user.id)
            .bind(class)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(number) = &scope.student {
            sqlx::query("INSERT INTO user_student (user_id, number) VALUES ($1, $2)")
                .bind(user.id)
                .bind(number)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    /// The classes and the 学号 a user's account reaches (empty for other roles).
    pub async fn user_scope(&self, user_id: i64) -> Result<Scope, StoreError> {
        let mut conn = self.db.read().await?;
        let classes = sqlx::query("SELECT class FROM user_class WHERE user_id = $1 ORDER BY class")
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<Vec<_>, _>>()?;
        let student = sqlx::query("SELECT number FROM user_student WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?;
        Ok(Scope { classes, student })
    }

    /// The user of that name if the password matches; `None` otherwise (unknown name or
    /// wrong password alike, so a caller cannot tell which).
    pub async fn authenticate(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT id, name, role, school_code, department, password_hash, disabled FROM app_user WHERE name = $1")
            .bind(name)
            .fetch_optional(self.db.reader())
            .await?;
        let Some(row) = row else {
            // The same work as for a wrong password.
            let _ = verify_password(password, dummy_hash());
            return Ok(None);
        };
        let hash: String = row.try_get("password_hash")?;
        let disabled: i64 = row.try_get("disabled")?;
        if verify_password(password, &hash) && disabled == 0 {
            Ok(Some(user_of(&row)?))
        } else {
            Ok(None)
        }
    }

    /// Every account with whether it is disabled, by name.
    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, role, school_code, department, disabled, created_at FROM app_user ORDER BY name",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Account {
                    user: user_of(r)?,
                    disabled: r.try_get::<i64, _>("disabled")? != 0,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Disables or enables an account; disabling ends its sessions.
    pub async fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError> {
        let mut tx = self.db.write().await?;
        let id = user_id(&mut tx, name).await?;
        sqlx::query("UPDATE app_user SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if disabled {
            sqlx::query("DELETE FROM web_session WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password (an administrator's reset, or a change after the old password
    /// was checked); every session of the account ends.
    pub async fn set_password(&self, name: &str, password: &str) -> Result<(), StoreError> {
        let hash = hash_password(password)?;
        let mut tx = self.db.write().await?;
        let id = user_id(&mut tx, name).await?;
        sqlx::query("UPDATE app_user SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM web_session WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes one's own password, the old one checked first.
    pub async fn change_password(
        &self,
        name: &str,
        old: &str,
        new: &str,
    ) -> Result<(), StoreError> {
        if self.authenticate(name, old).await?.is_none() {
            return Err(StoreError::WrongPassword);
        }
        self.set_password(name, new).await
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, role, school_code, department FROM app_user ORDER BY name",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(user_of).collect()
    }
}
