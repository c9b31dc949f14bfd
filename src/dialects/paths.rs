//! A dialect's paths as data: each path's segments and the methods it supports. One table gives
//! the 405's `Allow`, and a test holds openapi.json to it, so a path the Worker serves cannot go
//! undocumented (the change feed's did, for a while) and a documented one cannot go unserved.

/// One segment of a path below a dialect's prefix.
#[derive(Clone, Copy, Debug)]
pub enum Seg {
    /// This text exactly.
    Lit(&'static str),
    /// Any one segment: an id (the handler parses it).
    Param,
}

/// A path and the methods it supports, as `Allow` lists them (`HEAD` goes with `GET` on its own).
pub type Path = (&'static [Seg], &'static str);

/// The methods of the first path `rest` matches, or `None` for no such path.
pub fn allowed(paths: &[Path], rest: &[&str]) -> Option<&'static str> {
    let matches = |segs: &[Seg]| {
        segs.len() == rest.len()
            && segs.iter().zip(rest).all(|(seg, part)| match seg {
                Seg::Lit(text) => text == part,
                Seg::Param => true,
            })
    };
    paths.iter().find(|(segs, _)| matches(segs)).map(|(_, methods)| *methods)
}

#[cfg(test)]
pub mod documented {
    use super::{Path, Seg};
    use std::collections::{BTreeMap, BTreeSet};

    type Methods = BTreeMap<String, BTreeSet<String>>;

    /// `/a/{id}/b` → `/a/{}/b`: documents name their parameters, tables do not.
    pub(super) fn template(path: &str) -> String {
        let mut out = String::new();
        let mut in_param = false;
        for c in path.chars() {
            match c {
                '{' => in_param = true,
                '}' => {
                    in_param = false;
                    out.push_str("{}");
                }
                _ if !in_param => out.push(c),
                _ => {}
            }
        }
        out
    }

    /// The paths and methods openapi.json documents under `prefix`.
    fn in_document(prefix: &str) -> Methods {
        let doc: serde_json::Value = serde_json::from_str(include_str!("../../openapi.json")).expect("openapi.json is JSON");
        const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];
        let paths = doc["paths"].as_object().expect("paths");
        paths
            .iter()
            .filter(|(path, _)| path.starts_with(prefix))
            .map(|(path, item)| {
                let methods = METHODS.iter().filter(|m| item.get(**m).is_some()).map(|m| m.to_uppercase()).collect();
                (template(&path[prefix.len()..]), methods)
            })
            .collect()
    }

    /// Every path of `paths` is documented under `prefix` with exactly its methods, and every
    /// documented path there is served, but for the `undocumented` ones (each with its reason).
    pub fn matches(prefix: &str, paths: &[Path], undocumented: &[&str]) {
        let served: Methods = paths
            .iter()
            .map(|(segs, methods)| {
                let path: Vec<&str> = segs.iter().map(|s| if let Seg::Lit(t) = s { t } else { "{}" }).collect();
                (path.join("/"), methods.split(", ").map(str::to_string).collect())
            })
            .filter(|(path, _)| !undocumented.contains(&path.as_str()))
            .collect();
        assert_eq!(served, in_document(prefix), "{prefix}: what is served (left) and what openapi.json documents (right)");
    }
}

#[cfg(test)]
mod tests {
    use super::Seg::{Lit, Param};
    use super::*;

    #[test]
    fn the_first_path_that_matches_wins() {
        let paths: &[Path] =
            &[(&[Lit("Users"), Lit(".search")], "POST"), (&[Lit("Users"), Param], "GET, DELETE"), (&[Lit("Users")], "GET")];
        assert_eq!(allowed(paths, &["Users", ".search"]), Some("POST"));
        assert_eq!(allowed(paths, &["Users", "7"]), Some("GET, DELETE"));
        assert_eq!(allowed(paths, &["Users"]), Some("GET"));
        assert_eq!(allowed(paths, &["Users", "7", "x"]), None);
        assert_eq!(allowed(paths, &[]), None);
        assert_eq!(documented::template("/a/{id}/b/{userId}"), "/a/{}/b/{}");
    }
}
