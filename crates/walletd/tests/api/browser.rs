//! A minimal browser for the holder's pages: keeps cookies, reads the `csrf` field of forms,
//! follows no redirects (tests assert them).

use crate::helpers::TestApp;
use std::collections::BTreeMap;

pub struct Browser {
    base: String,
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

/// A page answer: status, `Location` (if any) and the HTML.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> String {
        field_value(&self.body, "csrf").expect("page has a csrf field")
    }
}

/// The `value` of the first input named `name`.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let start = html[..at].rfind("<input")?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let v = tag.find("value=\"")? + 7;
    let len = tag[v..].find('"')?;
    Some(tag[v..v + len].to_string())
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            base: app.base_url.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header("Cookie", self.cookie_header())
        };
        let resp = req.send().await.unwrap();
        for c in resp.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let location = headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let body = resp.text().await.unwrap();
        Page {
            status,
            location,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(form).unwrap();
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// Logs in through the English login page; returns the answer of the form's POST.
    pub async fn login(&mut self, email: &str, password: &str, next: &str) -> Page {
        let form = self.get("/frontend/en/login").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/frontend/en/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf", &csrf),
                ("next", next),
            ],
        )
        .await
    }

    /// Logs alice (the first demo holder) in; panics unless it worked.
    pub async fn login_alice(&mut self, app: &TestApp) {
        self.login_holder(app, 0).await;
    }

    /// Logs demo holder number `user` in (0: alice, 1: bob); panics unless it worked.
    pub async fn login_holder(&mut self, app: &TestApp, user: usize) {
        let u = &app.demo.users[user];
        let page = self.login(&u.email, &u.password, "/frontend/app").await;
        assert_eq!(page.status, 303, "{}", page.body);
        assert!(self.cookies.contains_key("walletd_session"));
    }

    /// Posts a holder's `decision` ("accept", "reject") to the form at `path`.
    pub async fn decide(&mut self, path: &str, csrf: &str, decision: &str) -> Page {
        self.post(path, &[("csrf", csrf), ("decision", decision)])
            .await
    }
}
