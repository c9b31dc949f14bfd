//! The Unicode rules the value types share: which characters no visible text may carry, and how
//! an email's local part becomes a comparison key.

use icu_properties::props::{GeneralCategory, Script};
use icu_properties::script::ScriptWithExtensions;
use icu_properties::CodePointMapData;

/// Characters that change how text is shown without being seen: the bidirectional controls of
/// UAX #9 (they can turn `gpj.exe` into `exe.jpg` on screen) and the invisible
/// Default_Ignorable_Code_Point characters (zero-width space, word joiner, BOM, soft hyphen,
/// Hangul fillers, tag characters, …) that make two names look the same. ZWJ and ZWNJ (emoji
/// sequences, Persian and Indic spelling) and variation selectors (emoji and ideograph forms)
/// are real text and stay allowed.
pub fn is_hidden_format(c: char) -> bool {
    matches!(c,
        // UAX #9 explicit directional marks, embeddings, overrides and isolates.
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        // Invisible default-ignorable characters (Unicode's DerivedCoreProperties.txt).
        | '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
        | '\u{200B}' | '\u{2060}'..='\u{2065}' | '\u{206A}'..='\u{206F}' | '\u{3164}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        // Tag characters, and the unassigned rest of the ignorable plane-14 block.
        | '\u{E0000}'..='\u{E00FF}' | '\u{E01F0}'..='\u{E0FFF}'
        // Interlinear annotation controls: hidden text by design.
        | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// The first character `s` must not show, named for an error message (`U+202E`).
pub fn first_hidden_format(s: &str) -> Option<String> {
    s.chars().find(|&c| is_hidden_format(c)).map(|c| format!("U+{:04X}", c as u32))
}

/// Whether `s` is written in one script, as UTS #39 §5.2 "Highly Restrictive" counts it: every
/// character (Common and Inherited ones, such as digits, `-` and combining marks, go with any)
/// shares a script through its Script_Extensions, or all fit one of the mixes a language needs:
/// Latin + Han + Hiragana + Katakana, Latin + Han + Bopomofo, Latin + Han + Hangul. So `user1-а`
/// with a Cyrillic `а` is refused, and `yamada-山田` is not.
pub fn is_single_script(s: &str) -> bool {
    const MIXES: [&[Script]; 3] = [
        &[Script::Latin, Script::Han, Script::Hiragana, Script::Katakana],
        &[Script::Latin, Script::Han, Script::Bopomofo],
        &[Script::Latin, Script::Han, Script::Hangul],
    ];
    let scripts = ScriptWithExtensions::new();
    let sets: Vec<_> = s
        .chars()
        .map(|c| scripts.get_script_extensions_val(c))
        .filter(|set| !set.contains(&Script::Common) && !set.contains(&Script::Inherited))
        .collect();
    let Some(first) = sets.first() else { return true };
    let fits = |allowed: &[Script]| sets.iter().all(|set| allowed.iter().any(|s| set.contains(s)));
    first.iter().any(|script| fits(&[script])) || MIXES.iter().any(|mix| fits(mix))
}

/// A combining mark that forms no letter, in NFC text: one at the start, one on an ASCII
/// character (NFC would have composed `e` + U+0301 into `é`, so what is left there, like the
/// U+0335 in `a̵`, decorates rather than spells), or, after UTS #39 §5.4, a run of more than 4
/// marks or the same mark twice in a run.
pub fn stray_mark(nfc: &str) -> Option<char> {
    use GeneralCategory::{EnclosingMark, NonspacingMark, SpacingMark};
    let categories = CodePointMapData::<GeneralCategory>::new();
    let mut base: Option<char> = None;
    let mut run: Vec<char> = Vec::new();
    for c in nfc.chars() {
        if !matches!(categories.get(c), NonspacingMark | SpacingMark | EnclosingMark) {
            (base, run) = (Some(c), Vec::new());
            continue;
        }
        if base.is_none_or(|b| b.is_ascii()) || run.len() == 4 || run.contains(&c) {
            return Some(c);
        }
        run.push(c);
    }
    None
}

/// Case-insensitive, compatibility-insensitive matching, through the UTS #46 (IDNA) mapping that
/// already ships for domain names: NFKC_Casefold as IDNA uses it, then NFC. So fullwidth `ｏ` is
/// `o`, Kelvin sign `K` is `k`, `ﬁ` is `fi`, `İ` is `i̇` (full case folding, not Turkish). IDNA
/// keeps `ß` and final `ς` as letters of their own (its "deviations"); full case folding maps them
/// to `ss` and `σ`, and so do we. `None` when a character is one IDNA disallows.
pub fn compatibility_caseless(s: &str) -> Option<String> {
    let mapper = icu_normalizer::uts46::Uts46MapperBorrowed::new();
    let mut out = String::with_capacity(s.len());
    for c in mapper.map_normalize(s.chars()) {
        match c {
            '\u{FFFD}' => return None,
            '\u{DF}' => out.push_str("ss"),
            '\u{3C2}' => out.push('\u{3C3}'),
            c => out.push(c),
        }
    }
    Some(out)
}

/// The comparison key of a free-text name that is unique case-insensitively (a SCIM group's
/// `displayName`): `compatibility_caseless`, so `ÄRZTE`, `ärzte` and fullwidth `ｓａｌｅｓ` for
/// `Sales` are one name each, as they read. Text IDNA has no mapping for (an unassigned code
/// point, a noncharacter) falls back to its plain lowercase: still one key per name.
pub fn caseless_key(s: &str) -> String {
    compatibility_caseless(s).unwrap_or_else(|| s.to_lowercase())
}

/// An email local part's comparison key: the quoted-string form unquoted (RFC 5321 §4.1.2:
/// `"john"` and `"jo\hn"` are `john`), compatibility-caseless, and quoted again only if the result
/// is not a dot-atom (RFC 5322 §3.4.1, RFC 6531 atext).
pub fn local_part_key(local: &str) -> Option<String> {
    let content = match local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        Some(quoted) => unescape(quoted),
        None => local.to_string(),
    };
    let key = compatibility_caseless(&content)?;
    if is_dot_atom(&key) {
        Some(key)
    } else {
        let mut quoted = String::with_capacity(key.len() + 2);
        quoted.push('"');
        for c in key.chars() {
            if matches!(c, '"' | '\\') {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        quoted.push('"');
        Some(quoted)
    }
}

/// A quoted string's content: `\x` is `x` (RFC 5322 quoted-pair).
fn unescape(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
    }
    out
}

fn is_dot_atom(s: &str) -> bool {
    let atext = |c: char| !c.is_ascii() || c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    s.split('.').all(|atom| !atom.is_empty() && atom.chars().all(atext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_format_characters() {
        for c in ['\u{200B}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200E}', '\u{061C}', '\u{FEFF}', '\u{E0041}', '\u{3164}'] {
            assert!(is_hidden_format(c), "U+{:04X}", c as u32);
        }
        for c in ['a', ' ', 'é', '\u{200C}', '\u{200D}', '\u{FE0F}', '\u{E0100}', '\u{0301}', '😀'] {
            assert!(!is_hidden_format(c), "U+{:04X}", c as u32);
        }
        assert_eq!(first_hidden_format("abc\u{202E}txt.exe").as_deref(), Some("U+202E"));
        assert_eq!(first_hidden_format("👩\u{200D}💻 Zoë"), None);
    }

    #[test]
    fn scripts() {
        for one in
            ["user1-a", "Ivan", "Иван", "Ελένη", "yamada-山田", "やまだ・タロウ", "김철수", "abc-123_x", "", "1-2", "é\u{301}"]
        {
            assert!(is_single_script(one), "{one}");
        }
        for mixed in ["user1-\u{430}", "p\u{430}ypal", "Ivan-Иван", "αbc", "김-やまだ"] {
            assert!(!is_single_script(mixed), "{mixed}");
        }
    }

    #[test]
    fn marks() {
        for ok in ["jos\u{e9}", "Nguy\u{1ec5}n", "\u{1eb9}\u{301}", "क्षत्रिय", "abc"] {
            assert_eq!(stray_mark(ok), None, "{ok}");
        }
        for (bad, mark) in [
            ("\u{301}user", '\u{301}'),
            ("user1\u{307}", '\u{307}'),
            ("pa\u{335}ypal", '\u{335}'),
            ("\u{e9}\u{323}\u{323}", '\u{323}'),
            ("\u{e9}\u{300}\u{302}\u{303}\u{304}\u{306}", '\u{306}'),
        ] {
            assert_eq!(stray_mark(bad), Some(mark), "{bad}");
        }
    }

    #[test]
    fn compatibility_caseless_matching() {
        for (a, b) in [
            ("STRASSE", "straße"),
            ("\u{212A}elvin", "kelvin"),
            ("ｏｒｇａ", "orga"),
            ("e\u{301}", "\u{E9}"),
            ("\u{130}", "i\u{307}"),
            ("ﬁle", "FILE"),
            ("ΣΑΣ", "σας"),
        ] {
            assert_eq!(compatibility_caseless(a).unwrap(), compatibility_caseless(b).unwrap(), "{a} / {b}");
        }
        assert_eq!(compatibility_caseless("\u{130}").unwrap(), "i\u{307}", "İ folds to i + dot above, not i");
        assert_ne!(compatibility_caseless("a"), compatibility_caseless("\u{430}"), "Cyrillic а is another letter");
        assert_eq!(compatibility_caseless("\u{1E9E}").unwrap(), "ss", "capital sharp s");
        assert_eq!(compatibility_caseless("a\u{FFFF}b"), None, "IDNA disallows it");
    }

    #[test]
    fn caseless_keys_of_names() {
        for (a, b) in [("Ärzte", "ÄRZTE"), ("Sales Team", "SALES team"), ("ｓａｌｅｓ", "Sales"), ("Straße Ops", "STRASSE OPS")]
        {
            assert_eq!(caseless_key(a), caseless_key(b), "{a} / {b}");
        }
        assert_eq!(caseless_key("Sales Team / EMEA"), "sales team / emea", "spaces and punctuation stay");
        assert_ne!(caseless_key("Ops"), caseless_key("\u{41E}ps"), "Cyrillic О is another letter");
        assert_eq!(caseless_key("A\u{FFFF}B"), "a\u{FFFF}b", "no IDNA mapping: lowercase");
    }

    fn local(s: &str) -> String {
        local_part_key(s).unwrap()
    }

    #[test]
    fn local_parts() {
        assert_eq!(local("\"quoted\""), "quoted");
        assert_eq!(local("\"q\\uoted\""), "quoted");
        assert_eq!(local("\"John.Doe\""), "john.doe");
        assert_eq!(local("\"john doe\""), "\"john doe\"");
        assert_eq!(local("\"a..b\""), "\"a..b\"");
        assert_eq!(local("\"a\\\"b\""), "\"a\\\"b\"");
        assert_eq!(local("ＡＢＣ"), "abc");
    }
}
