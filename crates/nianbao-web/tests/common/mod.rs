//! A test harness: the app on a real store (a SQLite file, and PostgreSQL when
//! `NIANBAO_TEST_DATABASE_URL` is set), the sample school under a code unique to the run,
//! one user per role, and a client that keeps cookies and reads CSRF tokens from pages.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use nianbao_core::{Dataset, Definitions, Role};
use nianbao_store::{NewUser, Store};
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery";

pub struct Harness {
    pub _dir: tempfile::TempDir,
    pub store: Store,
    pub definitions: Definitions,
    pub app: Router,
    /// The app's shared state (for what it counts).
    pub state: nianbao_web::AppState,
    pub code: String,
    /// The school's district, and the other school (in another district of the same city).
    pub district: String,
    pub other_code: String,
    /// Role name ("quality", "department", …) → user name.
    pub users: BTreeMap<&'static str, String>,
    pub label: &'static str,
    /// The psychological archive's key the app was given.
    pub psych_key: std::sync::Arc<nianbao_systems::psych::Key>,
}

/// A string unique to this test run.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{nanos}")
}

pub fn sample(definitions: &Definitions, code: &str) -> Dataset {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang");
    let mut data = nianbao_io::read_dataset(&dir, definitions).expect("sample reads");
    data.school.code = code.to_string();
    data.school.name = format!("{}（{code}）", data.school.name);
    data
}

/// The department that owns some of the sample's majors, and one that owns others.
pub fn two_departments(data: &Dataset) -> (String, String) {
    let mut departments: Vec<&str> = data
        .majors
        .iter()
        .map(|m| m.department.as_str())
        .filter(|d| !d.is_empty())
        .collect();
    departments.dedup();
    departments.sort();
    departments.dedup();
    assert!(
        departments.len() >= 2,
        "the sample has majors in two departments"
    );
    (departments[0].to_string(), departments[1].to_string())
}

impl Harness {
    /// One harness per backend under test.
    pub async fn all() -> Vec<Harness> {
        let mut harnesses = vec![Harness::sqlite().await];
        if let Ok(url) = std::env::var("NIANBAO_TEST_DATABASE_URL") {
            harnesses.push(
                Harness::on(
                    Store::open(&url).await.unwrap(),
                    tempfile::tempdir().unwrap(),
                    "PostgreSQL",
                )
                .await,
            );
        }
        harnesses
    }

    pub async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("web.db"))
            .await
            .unwrap();
        Harness::on(store, dir, "SQLite").await
    }

    async fn on(store: Store, dir: tempfile::TempDir, label: &'static str) -> Harness {
        Harness::with_config(store, dir, label, nianbao_web::Config::default()).await
    }

    /// The user of a role as the store holds it.
    pub async fn user(&self, role: &str) -> nianbao_store::User {
        self.store
            .users()
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.name == self.users[role])
            .unwrap()
    }

    pub async fn with_config(
        store: Store,
        dir: tempfile::TempDir,
        label: &'static str,
        mut config: nianbao_web::Config,
    ) -> Harness {
        let psych_key = match &config.psych_key {
            Some(key) => key.clone(),
            None => std::sync::Arc::new(nianbao_systems::psych::Key::generate().unwrap().0),
        };
        config.psych_key = Some(psych_key.clone());
        let definitions = Definitions::builtin().unwrap();
        let code = unique("web");
        let data = sample(&definitions, &code);
        store.save_dataset(&data, "import").await.unwrap();
        let other_code = unique("other");
        store
            .save_dataset(&sample(&definitions, &other_code), "import")
            .await
            .unwrap();
        let (own, _) = two_departments(&data);
        let mut users = BTreeMap::new();
        let accounts: [(&'static str, Role, Option<&str>, Option<&str>); 8] = [
            ("admin", Role::Admin, Some(&code), None),
            ("quality", Role::Quality, Some(&code), None),
            ("quality2", Role::Quality, Some(&code), None),
            ("department", Role::Department, Some(&code), Some(&own)),
            ("reviewer", Role::Reviewer, None, None),
            ("outsider", Role::Quality, Some(&other_code), None),
            ("school_reviewer", Role::Reviewer, Some(&code), None),
            ("counsellor", Role::Counsellor, Some(&code), None),
        ];
        // The two schools' area: a district each, one city, one province.
        let area = unique("a");
        let tree = nianbao_bureau::AreaTree::parse(
            "areas.toml",
            &format!(
                "[[province]]\ncode = \"{area}-p\"\nname = \"测试省\"\n\n\
                 [[city]]\ncode = \"{area}-c\"\nname = \"测试市\"\nprovince = \"{area}-p\"\n\n\
                 [[district]]\ncode = \"{area}-d\"\nname = \"黔江区\"\ncity = \"{area}-c\"\n\n\
                 [[district]]\ncode = \"{area}-e\"\nname = \"邻区\"\ncity = \"{area}-c\"\n\n\
                 [[school]]\ncode = \"{code}\"\nname = \"本校\"\ndistrict = \"{area}-d\"\ntype = \"中职\"\n\n\
                 [[school]]\ncode = \"{other_code}\"\nname = \"邻区学校\"\ndistrict = \"{area}-e\"\ntype = \"中职\"\n"
            ),
        )
        .unwrap();
        store.load_areas(&tree).await.unwrap();
        for (role, kind, school, department) in accounts {
            let name = unique(&format!("{role}-"));
            store
                .add_user(&NewUser {
                    name: &name,
                    role: kind,
                    school_code: school,
                    department,
                    password: PASSWORD,
                })
                .await
                .unwrap();
            users.insert(role, name);
        }
        // Bureau users: the school's district, the other district, the city.
        for (role, bound) in [
            ("district", format!("{area}-d")),
            ("district_other", format!("{area}-e")),
            ("city", format!("{area}-c")),
        ] {
            let name = unique(&format!("{role}-"));
            store
                .add_user(&NewUser {
                    name: &name,
                    role: Role::Reviewer,
                    school_code: None,
                    department: None,
                    password: PASSWORD,
                })
                .await
                .unwrap();
            store.set_user_area(&name, &bound).await.unwrap();
            users.insert(role, name);
        }
        let state = nianbao_web::AppState::new(store.clone(), definitions.clone(), config);
        Harness {
            _dir: dir,
            store,
            definitions,
            app: nianbao_web::router(state.clone()),
            state,
            code,
            district: format!("{area}-d"),
            other_code,
            users,
            label,
            psych_key,
        }
    }

    pub fn client(&self) -> Client {
        Client {
            app: self.app.clone(),
            cookies: BTreeMap::new(),
            address: None,
        }
    }

    /// A client signed in as the user of that role.
    pub async fn signed_in(&self, role: &str) -> Client {
        let mut client = self.client();
        let response = client.login(&self.users[role], PASSWORD).await;
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "{role} signs in: {}",
            response.body
        );
        client
    }

    /// A client signed in as the user of that role, and its session's CSRF token as the
    /// page at `path` carries it.
    pub async fn signed_in_at(&self, role: &str, path: &str) -> (Client, String) {
        let mut client = self.signed_in(role).await;
        let csrf = client.csrf(path).await;
        (client, csrf)
    }

    /// A client of a new app on the same store (nothing computed or kept yet), signed in
    /// as the user of that role.
    pub async fn signed_in_to_new_app(&self, role: &str) -> Client {
        let state = nianbao_web::AppState::new(
            self.store.clone(),
            self.definitions.clone(),
            nianbao_web::Config::default(),
        );
        let mut client = Client {
            app: nianbao_web::router(state),
            cookies: BTreeMap::new(),
            address: None,
        };
        let response = client.login(&self.users[role], PASSWORD).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
        client
    }

    pub async fn data(&self) -> Dataset {
        self.store.load_dataset(&self.code).await.unwrap()
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
    pub body: String,
}

impl Response {
    /// The name a download is saved under, decoded from the RFC 6266 `filename*` parameter.
    pub fn saved_name(&self) -> String {
        let header = self.headers["content-disposition"].to_str().unwrap();
        let encoded = header
            .split("filename*=UTF-8''")
            .nth(1)
            .expect("a filename* parameter");
        let mut bytes = Vec::new();
        let mut rest = encoded.bytes();
        while let Some(b) = rest.next() {
            if b == b'%' {
                let hex: String = [rest.next().unwrap(), rest.next().unwrap()]
                    .iter()
                    .map(|&c| c as char)
                    .collect();
                bytes.push(u8::from_str_radix(&hex, 16).unwrap());
            } else {
                bytes.push(b);
            }
        }
        String::from_utf8(bytes).unwrap()
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF field in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_string()
    }

    /// The value of the first input named `name`, unescaped.
    pub fn input(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no input {name} in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end]
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&#x2f;", "/")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }
}

#[derive(Clone)]
pub struct Client {
    app: Router,
    pub cookies: BTreeMap<String, String>,
    /// The address requests come from, as the server's connection would tell it.
    address: Option<std::net::SocketAddr>,
}

impl Client {
    /// The same client, its requests coming from `address`.
    pub fn from(mut self, address: std::net::SocketAddr) -> Client {
        self.address = Some(address);
        self
    }

    pub async fn send(&mut self, request: Request<Body>) -> Response {
        let mut request = request;
        if let Some(address) = self.address {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(address));
        }
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request
                .headers_mut()
                .insert(header::COOKIE, cookie.parse().unwrap());
        }
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for value in headers.get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        Response {
            status,
            headers,
            bytes,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Response {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// Posts a multipart form with text fields and one file.
    pub async fn upload(&mut self, path: &str, fields: &[(&str, &str)], file: &[u8]) -> Response {
        self.upload_as(
            path,
            fields,
            "upload.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            file,
        )
        .await
    }

    /// Posts a multipart form with text fields and one file of the given name and type.
    pub async fn upload_as(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        content_type: &str,
        file: &[u8],
    ) -> Response {
        let boundary = "----nianbao-test-boundary";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes());
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = Request::post(path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    pub async fn login(&mut self, name: &str, password: &str) -> Response {
        let page = self.get("/login").await;
        let csrf = page.csrf();
        self.post(
            "/login",
            &[("csrf", &csrf), ("name", name), ("password", password)],
        )
        .await
    }

    /// The CSRF token of this session (read from the page at `path`).
    pub async fn csrf(&mut self, path: &str) -> String {
        self.get(path).await.csrf()
    }
}

/// A workbook saved again by a spreadsheet program, with the cell in `sheet` on the row
/// whose column B is `code` and in the column headed `column` set to `value`. Every sheet
/// is copied, hidden ones too (and hidden again), as Excel and WPS keep them.
pub fn edit_cell(bytes: &[u8], sheet: &str, code: &str, column: &str, value: f64) -> Vec<u8> {
    use calamine::{Data, Reader, SheetVisible, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheets = book.sheets_metadata().to_vec();
    let mut out = rust_xlsxwriter::Workbook::new();
    let mut edited = false;
    for meta in sheets {
        let range = book.worksheet_range(&meta.name).unwrap();
        let target = (meta.name == sheet).then(|| {
            let row = range
                .rows()
                .position(|r| {
                    r.get(1)
                        .is_some_and(|c| matches!(c, Data::String(s) if s == code))
                })
                .unwrap_or_else(|| panic!("no row {code} in {sheet}"));
            let col = range
                .rows()
                .find_map(|r| {
                    r.iter()
                        .position(|c| matches!(c, Data::String(s) if s == column))
                })
                .unwrap_or_else(|| panic!("no column {column} in {sheet}"));
            (row, col)
        });
        let written = out.add_worksheet();
        written.set_name(&meta.name).unwrap();
        match meta.visible {
            SheetVisible::Hidden => {
                written.set_hidden(true);
            }
            SheetVisible::VeryHidden => {
                written.set_very_hidden(true);
            }
            SheetVisible::Visible => {}
        }
        let (top, left) = range.start().unwrap_or((0, 0));
        for (r, c, cell) in range.used_cells() {
            let (row, col) = (top + r as u32, (left + c as u32) as u16);
            let cell = if target == Some((r, c)) {
                edited = true;
                Data::Float(value)
            } else {
                cell.clone()
            };
            match cell {
                Data::String(s) => written.write_string(row, col, s),
                Data::Float(f) => written.write_number(row, col, f),
                Data::Int(i) => written.write_number(row, col, i as f64),
                Data::Bool(b) => written.write_boolean(row, col, b),
                _ => Ok(&mut *written),
            }
            .unwrap();
        }
    }
    assert!(edited, "the cell {sheet} {code} {column} was written");
    out.save_to_buffer().unwrap()
}

/// The points ledger (积分制) of the harness's school: the sample tree, two classes, a term
/// around today, a 班主任 and a 任课教师 of the first class, and the accounts of two of its
/// students.
pub struct PointsFixture {
    pub class: String,
    pub other_class: String,
    /// 学号 of the student whose account is "student".
    pub student: String,
    /// 学号 of the other student with an account ("other_student"), same class.
    pub other_student: String,
    /// 学号 of a student of the other class.
    pub stranger: String,
    /// Students of the first class, (学号, 姓名).
    pub students: Vec<(String, String)>,
}

/// Today in Beijing as the ledger counts days.
pub fn today() -> i32 {
    let now = time::OffsetDateTime::now_utc().to_offset(nianbao_core::clock::beijing());
    nianbao_points::ledger::days_from_civil(
        now.year(),
        u32::from(u8::from(now.month())),
        u32::from(now.day()),
    )
}

/// `text` percent-encoded for a URL path segment or query value.
pub fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Harness {
    /// Sets up the school's points ledger and its teachers' and students' accounts.
    pub async fn with_points(&mut self) -> PointsFixture {
        use nianbao_points::roster::Student;
        let points = nianbao_store::points::PointsStore::new(&self.store, None)
            .await
            .unwrap();
        points
            .load_tree(&self.code, &nianbao_points::Tree::sample(), "setup")
            .await
            .unwrap();
        let class = "汽修2601".to_string();
        let other_class = "数控2601".to_string();
        let students: Vec<(String, String)> = [
            ("S2601001", "张小明"),
            ("S2601002", "李小红"),
            ("S2601003", "王小刚"),
            ("S2601004", "陈小燕"),
        ]
        .iter()
        .map(|(n, m)| (n.to_string(), m.to_string()))
        .collect();
        let mut roster: Vec<Student> = students
            .iter()
            .map(|(number, name)| Student {
                id: 0,
                number: number.clone(),
                name: name.clone(),
                class: class.clone(),
                major: "汽车运用与维修".into(),
                department: "汽车技术部".into(),
                entry_year: 2026,
            })
            .collect();
        roster.push(Student {
            id: 0,
            number: "S2602001".into(),
            name: "赵小军".into(),
            class: other_class.clone(),
            major: "数控技术应用".into(),
            department: "智能制造部".into(),
            entry_year: 2026,
        });
        points.import_roster(&self.code, &roster).await.unwrap();
        let today = today();
        let (year, _, _) = nianbao_points::ledger::civil_from_days(today - 60);
        points
            .define_period(&self.code, "本学期", year, today - 60, today + 60)
            .await
            .unwrap();
        let (earlier, _, _) = nianbao_points::ledger::civil_from_days(today - 200);
        points
            .define_period(&self.code, "上学期", earlier, today - 200, today - 61)
            .await
            .unwrap();
        let accounts: [(&'static str, Role, Vec<String>, Option<String>); 4] = [
            ("head_teacher", Role::HeadTeacher, vec![class.clone()], None),
            ("teacher", Role::Teacher, vec![class.clone()], None),
            (
                "student",
                Role::Student,
                Vec::new(),
                Some(students[0].0.clone()),
            ),
            (
                "other_student",
                Role::Student,
                Vec::new(),
                Some(students[1].0.clone()),
            ),
        ];
        for (role, kind, classes, student) in accounts {
            let name = unique(&format!("{role}-"));
            self.store
                .add_scoped_user(
                    &NewUser {
                        name: &name,
                        role: kind,
                        school_code: Some(&self.code),
                        department: None,
                        password: PASSWORD,
                    },
                    &nianbao_store::Scope { classes, student },
                )
                .await
                .unwrap();
            self.users.insert(role, name);
        }
        PointsFixture {
            student: students[0].0.clone(),
            other_student: students[1].0.clone(),
            stranger: "S2602001".into(),
            class,
            other_class,
            students,
        }
    }

    /// Records one event as the user of `role` through the store, and returns its id.
    pub async fn record_points(&self, role: &str, student: &str, observation: &str) -> String {
        let points = nianbao_store::points::PointsStore::new(&self.store, None)
            .await
            .unwrap();
        let mut sl = points.open_ledger(&self.code).await.unwrap();
        let id = unique("ev-");
        let label = match role {
            "head_teacher" => "班主任",
            _ => "任课教师",
        };
        let row = nianbao_points::NewEvent {
            row: 1,
            event_id: id.clone(),
            student: student.to_string(),
            observation: observation.to_string(),
            value: None,
            recorder: self.users[role].clone(),
            role: label.to_string(),
            at: nianbao_points::Timestamp {
                day: today(),
                second: 8 * 3600,
            },
            reason: "设置".into(),
            evidence: None,
            reverses: None,
        };
        points
            .append(&mut sl, "setup", &[row], "setup")
            .await
            .unwrap();
        id
    }
}
