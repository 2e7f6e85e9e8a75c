//! The few preferences kept in localStorage: language, layout, solved
//! exercises.

use crate::i18n::Lang;
use leptos::prelude::*;

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

pub fn get_item(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

pub fn set_item(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

pub fn load_lang() -> Lang {
    match get_item("lvslab.lang").as_deref() {
        Some("zh") => Lang::Zh,
        Some("en") => Lang::En,
        _ => {
            let nav = window().navigator().language().unwrap_or_default();
            if nav.starts_with("zh") {
                Lang::Zh
            } else {
                Lang::En
            }
        }
    }
}

pub fn load_flag(key: &str) -> bool {
    get_item(key).as_deref() == Some("1")
}

pub fn load_solved() -> Vec<String> {
    get_item("lvslab.solved")
        .map(|s| {
            s.split(',')
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

pub fn save_solved(v: &[String]) {
    set_item("lvslab.solved", &v.join(","));
}
