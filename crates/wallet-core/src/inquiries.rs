//! Inquiries: data a client asks the holder for with a transaction
//! (`inquiries[{identifier, type, description, items[{identifier, type, title}]}]`), and the
//! holder's answers as `GET transaction/{key}/inquired-information` shows them.
//!
//! walletd keeps no identity documents: what the holder gives is what she declares on the
//! confirmation page (a person code; a name, surname, nationality and person code), unverified.

use serde::{Deserialize, Serialize};

/// At most this many inquiries in a transaction, and items in an inquiry.
pub const MAX_INQUIRIES: usize = 10;
pub const MAX_ITEMS: usize = 10;
/// Identifiers are 1 to this many characters.
pub const MAX_IDENTIFIER: usize = 255;
/// Descriptions and titles at most this many characters.
pub const MAX_TEXT: usize = 2048;
/// A name or surname the holder gives: 1 to this many characters.
pub const MAX_NAME: usize = 100;
/// A person code: 1 to this many letters, digits and dashes.
pub const MAX_PERSON_CODE: usize = 32;

/// What an item asks for: the item types the PHP client decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    /// `{name, surname, nationality, code}`.
    UserIdentity,
    /// The person code, as text.
    PersonCode,
}

impl ItemType {
    /// The name the API gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::UserIdentity => "user_identity",
            ItemType::PersonCode => "person_code",
        }
    }
}

/// Whether the holder must answer an inquiry to accept (`required`, the default) or may decline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    #[default]
    Required,
    Optional,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Item {
    pub identifier: String,
    #[serde(rename = "type")]
    pub kind: ItemType,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Inquiry {
    pub identifier: String,
    #[serde(rename = "type", default)]
    pub need: Need,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub items: Vec<Item>,
}

/// Checks the inquiries of a new transaction beyond their JSON shape: counts, lengths, and
/// identifiers unique (inquiries in the transaction, items in their inquiry).
pub fn check(inquiries: &[Inquiry]) -> Result<(), String> {
    if inquiries.len() > MAX_INQUIRIES {
        return Err(format!("at most {MAX_INQUIRIES} inquiries"));
    }
    for (i, q) in inquiries.iter().enumerate() {
        identifier(&q.identifier, &format!("inquiries[{i}].identifier"))?;
        if inquiries[..i].iter().any(|o| o.identifier == q.identifier) {
            return Err(format!(
                "inquiries[{i}].identifier repeats {:?}",
                q.identifier
            ));
        }
        text(&q.description, &format!("inquiries[{i}].description"))?;
        if q.items.is_empty() || q.items.len() > MAX_ITEMS {
            return Err(format!(
                "inquiries[{i}].items must list 1 to {MAX_ITEMS} items"
            ));
        }
        for (j, item) in q.items.iter().enumerate() {
            let at = format!("inquiries[{i}].items[{j}]");
            identifier(&item.identifier, &format!("{at}.identifier"))?;
            if q.items[..j].iter().any(|o| o.identifier == item.identifier) {
                return Err(format!("{at}.identifier repeats {:?}", item.identifier));
            }
            text(&item.title, &format!("{at}.title"))?;
        }
    }
    Ok(())
}

fn identifier(s: &str, at: &str) -> Result<(), String> {
    let n = s.chars().count();
    if n == 0 || n > MAX_IDENTIFIER {
        return Err(format!("{at} must be 1 to {MAX_IDENTIFIER} characters"));
    }
    Ok(())
}

fn text(s: &Option<String>, at: &str) -> Result<(), String> {
    match s {
        Some(s) if s.chars().count() > MAX_TEXT => {
            Err(format!("{at} must be at most {MAX_TEXT} characters"))
        }
        _ => Ok(()),
    }
}

/// An identity as the holder declared it (the PHP client's `IdentityMapper` fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub name: String,
    pub surname: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub nationality: String,
    pub code: String,
}

/// The value of one answered item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Identity(Identity),
    Text(String),
}

/// One answered item, as `inquired-information` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemResult {
    pub inquiry_identifier: String,
    pub item_identifier: String,
    pub item_type: ItemType,
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Accepted,
    Declined,
}

/// The holder's answer to one inquiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub identifier: String,
    pub status: Status,
}

/// Everything the holder answered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Answers {
    pub inquiries: Vec<Decision>,
    pub items: Vec<ItemResult>,
}

/// What the holder typed, by inquiry and item index: `shared(i)` whether she agreed to answer
/// optional inquiry `i`; `field(i, j, part)` the text of item `j`'s `part` (`""` for a person
/// code; `name`, `surname`, `nationality`, `code` of an identity).
pub trait Form {
    fn shared(&self, inquiry: usize) -> bool;
    fn field(&self, inquiry: usize, item: usize, part: &str) -> Option<&str>;
}

/// The parts of an identity the page asks for, in order.
pub const IDENTITY_PARTS: [&str; 4] = ["name", "surname", "nationality", "code"];

/// Reads the holder's answers to `inquiries` from `form`: a required inquiry must be answered
/// whole, an optional one is declined unless shared (then answered whole). The refusal names
/// the item's title (or identifier) and what is wrong with it.
pub fn answer(inquiries: &[Inquiry], form: &dyn Form) -> Result<Answers, String> {
    let mut answers = Answers::default();
    for (i, q) in inquiries.iter().enumerate() {
        if q.need == Need::Optional && !form.shared(i) {
            answers.inquiries.push(Decision {
                identifier: q.identifier.clone(),
                status: Status::Declined,
            });
            continue;
        }
        for (j, item) in q.items.iter().enumerate() {
            let label = item.title.as_deref().unwrap_or(&item.identifier);
            let part = |p: &str| form.field(i, j, p).map(str::trim).unwrap_or("");
            let value = match item.kind {
                ItemType::PersonCode => Value::Text(person_code(part(""), label)?),
                ItemType::UserIdentity => Value::Identity(Identity {
                    name: name(part("name"), label, "name")?,
                    surname: name(part("surname"), label, "surname")?,
                    nationality: nationality(part("nationality"), label)?,
                    code: person_code(part("code"), label)?,
                }),
            };
            answers.items.push(ItemResult {
                inquiry_identifier: q.identifier.clone(),
                item_identifier: item.identifier.clone(),
                item_type: item.kind,
                value,
            });
        }
        answers.inquiries.push(Decision {
            identifier: q.identifier.clone(),
            status: Status::Accepted,
        });
    }
    Ok(answers)
}

fn person_code(s: &str, label: &str) -> Result<String, String> {
    let ok = (1..=MAX_PERSON_CODE).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{label}: the person code must be 1 to {MAX_PERSON_CODE} letters, digits or dashes"
        ))
    }
}

fn name(s: &str, label: &str, what: &str) -> Result<String, String> {
    let n = s.chars().count();
    if n == 0 || n > MAX_NAME || s.chars().any(char::is_control) {
        return Err(format!(
            "{label}: the {what} must be 1 to {MAX_NAME} characters"
        ));
    }
    Ok(s.to_string())
}

fn nationality(s: &str, label: &str) -> Result<String, String> {
    if s.len() == 2 && s.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(format!(
            "{label}: the nationality must be a two-letter country code (LT)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Typed(HashMap<String, String>);

    impl Form for Typed {
        fn shared(&self, i: usize) -> bool {
            self.0.contains_key(&format!("share{i}"))
        }
        fn field(&self, i: usize, j: usize, part: &str) -> Option<&str> {
            self.0.get(&format!("{i}.{j}.{part}")).map(String::as_str)
        }
    }

    fn typed(pairs: &[(&str, &str)]) -> Typed {
        Typed(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn inquiries() -> Vec<Inquiry> {
        let v = serde_json::json!([
            {"identifier": "kyc", "type": "required", "items": [
                {"identifier": "who", "type": "user_identity", "title": "Your identity"}]},
            {"identifier": "extra", "type": "optional", "items": [
                {"identifier": "pc", "type": "person_code"}]}
        ]);
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn required_answered_whole_optional_declined_unless_shared() {
        let q = inquiries();
        check(&q).unwrap();
        let form = typed(&[
            ("0.0.name", " Ona "),
            ("0.0.surname", "Onaitė"),
            ("0.0.nationality", "lt"),
            ("0.0.code", "38001010000"),
        ]);
        let a = answer(&q, &form).unwrap();
        assert_eq!(a.items.len(), 1);
        assert_eq!(
            a.items[0].value,
            Value::Identity(Identity {
                name: "Ona".into(),
                surname: "Onaitė".into(),
                nationality: "LT".into(),
                code: "38001010000".into(),
            })
        );
        assert_eq!(a.inquiries[1].status, Status::Declined);
        let missing = typed(&[("0.0.name", "Ona")]);
        let e = answer(&q, &missing).unwrap_err();
        assert!(e.starts_with("Your identity: the surname"), "{e}");
        let shared = typed(&[
            ("0.0.name", "Ona"),
            ("0.0.surname", "O"),
            ("0.0.nationality", "LT"),
            ("0.0.code", "1"),
            ("share1", "1"),
            ("1.0.", "bad code!"),
        ]);
        assert!(
            answer(&q, &shared)
                .unwrap_err()
                .starts_with("pc: the person code")
        );
    }

    #[test]
    fn check_refuses_repeats_and_empty_items() {
        let mut q = inquiries();
        q[1].identifier = "kyc".into();
        assert!(check(&q).unwrap_err().contains("repeats"));
        let mut q = inquiries();
        q[0].items.clear();
        assert!(check(&q).unwrap_err().contains("1 to 10 items"));
        let json = serde_json::to_string(&Value::Text("1".into())).unwrap();
        assert_eq!(json, "\"1\"");
    }
}
