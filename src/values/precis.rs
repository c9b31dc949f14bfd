//! The PRECIS UsernameCaseMapped profile (RFC 8265 §3.3) over the ICU4X Unicode data that `url`
//! already ships in the wasm: the IdentifierClass (RFC 8264 §4.2, derived as §8 says from Unicode
//! properties, with the contextual rules of RFC 5892 Appendix A), then width mapping, case mapping,
//! NFC and the Bidi Rule (RFC 5893). The `precis-profiles` crate, which carries its own copies of
//! those tables (~90 KB gzip in the wasm), is the reference it is tested against code point by
//! code point.

use icu_normalizer::uts46::Uts46MapperBorrowed;
use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::props::{
    BidiClass, DefaultIgnorableCodePoint, EastAsianWidth, GeneralCategory, GeneralCategoryGroup, HangulSyllableType, JoiningType,
    Script,
};
use icu_properties::{CodePointMapData, CodePointSetData};

/// Why a string is not a valid username.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    /// This code point is not allowed (where it is, for a contextual one).
    CodePoint(char),
    /// Right-to-left text that breaks the Bidi Rule.
    Bidi,
}

/// RFC 8264 §8's derived property, as far as the IdentifierClass needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    PValid,
    ContextJ,
    ContextO,
    /// DISALLOWED, ID_DIS (FREE_PVAL) or UNASSIGNED: not in an identifier.
    Disallowed,
}

/// The enforced (comparison) form of a username, or why it has none: RFC 8265 §3.4 steps 1-6.
pub fn enforce_username(s: &str) -> Result<String, Refusal> {
    let prepared: String = s.chars().map(width_mapped).collect();
    identifier_class(&prepared)?;
    let lower: String = prepared.chars().flat_map(char::to_lowercase).collect();
    let key = ComposingNormalizerBorrowed::new_nfc().normalize(&lower).into_owned();
    if key.is_empty() {
        return Err(Refusal::Empty);
    }
    if !bidi_rule(&key) {
        return Err(Refusal::Bidi);
    }
    Ok(key)
}

/// RFC 8265 §3.3.1 step 1: fullwidth and halfwidth characters (East_Asian_Width F and H, exactly
/// the <wide> and <narrow> decompositions) become their decomposition.
fn width_mapped(c: char) -> char {
    match CodePointMapData::<EastAsianWidth>::new().get(c) {
        EastAsianWidth::Fullwidth | EastAsianWidth::Halfwidth => {
            single(&ComposingNormalizerBorrowed::new_nfkc().normalize(c.encode_utf8(&mut [0; 4]))).unwrap_or(c)
        }
        _ => c,
    }
}

fn single(s: &str) -> Option<char> {
    let mut chars = s.chars();
    chars.next().filter(|_| chars.next().is_none())
}

/// RFC 8264 §4.2 IdentifierClass: every code point PVALID, or CONTEXTJ/CONTEXTO with its rule met.
fn identifier_class(s: &str) -> Result<(), Refusal> {
    if s.is_empty() {
        return Err(Refusal::Empty);
    }
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let ok = match derived(c) {
            Derived::PValid => true,
            Derived::ContextJ => context_j(&chars, i),
            Derived::ContextO => context_o(&chars, i),
            Derived::Disallowed => false,
        };
        if !ok {
            return Err(Refusal::CodePoint(c));
        }
    }
    Ok(())
}

/// RFC 8264 §8, in its order, for the IdentifierClass.
pub fn derived(c: char) -> Derived {
    use GeneralCategory as Gc;
    if let Some(d) = exception(c) {
        return d;
    }
    let gc = CodePointMapData::<GeneralCategory>::new().get(c);
    let noncharacter = matches!(c as u32, 0xFDD0..=0xFDEF) || (c as u32 & 0xFFFE) == 0xFFFE;
    if (gc == Gc::Unassigned && !noncharacter) || gc == Gc::Control {
        return Derived::Disallowed;
    }
    if matches!(c, '\u{21}'..='\u{7E}') {
        return Derived::PValid;
    }
    if matches!(c, '\u{200C}' | '\u{200D}') {
        return Derived::ContextJ;
    }
    let old_hangul_jamo = matches!(
        CodePointMapData::<HangulSyllableType>::new().get(c),
        HangulSyllableType::LeadingJamo | HangulSyllableType::VowelJamo | HangulSyllableType::TrailingJamo
    );
    if old_hangul_jamo || noncharacter || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c) || has_compat(c) {
        return Derived::Disallowed;
    }
    let letter_digits = GeneralCategoryGroup::Letter.contains(gc) && gc != Gc::TitlecaseLetter
        || matches!(gc, Gc::DecimalNumber | Gc::NonspacingMark | Gc::SpacingMark);
    if letter_digits {
        Derived::PValid
    } else {
        Derived::Disallowed
    }
}

/// RFC 8264 §9.17: toNFKC(cp) != cp.
fn has_compat(c: char) -> bool {
    let mut buf = [0; 4];
    let s = c.encode_utf8(&mut buf);
    ComposingNormalizerBorrowed::new_nfkc().normalize(s) != *s
}

/// RFC 5892 §2.6, the Exceptions (F), which RFC 8264 §9.6 keeps.
fn exception(c: char) -> Option<Derived> {
    Some(match c {
        '\u{DF}' | '\u{3C2}' | '\u{6FD}' | '\u{6FE}' | '\u{F0B}' | '\u{3007}' => Derived::PValid,
        '\u{B7}' | '\u{375}' | '\u{5F3}' | '\u{5F4}' | '\u{30FB}' | '\u{660}'..='\u{669}' | '\u{6F0}'..='\u{6F9}' => {
            Derived::ContextO
        }
        '\u{640}' | '\u{7FA}' | '\u{302E}' | '\u{302F}' | '\u{3031}'..='\u{3035}' | '\u{303B}' => Derived::Disallowed,
        _ => return None,
    })
}

/// RFC 5892 Appendix A.1 (ZWNJ) and A.2 (ZWJ).
fn context_j(chars: &[char], i: usize) -> bool {
    if i > 0 && Uts46MapperBorrowed::new().is_virama(chars[i - 1]) {
        return true;
    }
    if chars[i] != '\u{200C}' {
        return false;
    }
    let joining = CodePointMapData::<JoiningType>::new();
    let transparent = |c: &&char| joining.get(**c) == JoiningType::Transparent;
    let before = chars[..i].iter().rev().find(|c| !transparent(c)).map(|&c| joining.get(c));
    let after = chars[i + 1..].iter().find(|c| !transparent(c)).map(|&c| joining.get(c));
    matches!(before, Some(JoiningType::LeftJoining | JoiningType::DualJoining))
        && matches!(after, Some(JoiningType::RightJoining | JoiningType::DualJoining))
}

/// RFC 5892 Appendix A.3-A.9.
fn context_o(chars: &[char], i: usize) -> bool {
    let script = |c: char| CodePointMapData::<Script>::new().get(c);
    let (before, after) = (i.checked_sub(1).map(|j| chars[j]), chars.get(i + 1).copied());
    match chars[i] {
        '\u{B7}' => before == Some('l') && after == Some('l'),
        '\u{375}' => after.is_some_and(|c| script(c) == Script::Greek),
        '\u{5F3}' | '\u{5F4}' => before.is_some_and(|c| script(c) == Script::Hebrew),
        '\u{30FB}' => chars.iter().any(|&c| matches!(script(c), Script::Hiragana | Script::Katakana | Script::Han)),
        '\u{660}'..='\u{669}' => !chars.iter().any(|c| ('\u{6F0}'..='\u{6F9}').contains(c)),
        '\u{6F0}'..='\u{6F9}' => !chars.iter().any(|c| ('\u{660}'..='\u{669}').contains(c)),
        _ => false,
    }
}

/// RFC 5893 §2, for a string with any right-to-left character (R, AL or AN).
fn bidi_rule(s: &str) -> bool {
    use BidiClass as B;
    let classes = CodePointMapData::<BidiClass>::new();
    let bc: Vec<BidiClass> = s.chars().map(|c| classes.get(c)).collect();
    if !bc.iter().any(|b| matches!(*b, B::RightToLeft | B::ArabicLetter | B::ArabicNumber)) {
        return true;
    }
    let last_strong = bc.iter().rev().find(|b| **b != B::NonspacingMark).copied();
    match bc.first().copied() {
        Some(B::RightToLeft | B::ArabicLetter) => {
            let allowed = |b: &B| {
                matches!(
                    *b,
                    B::RightToLeft
                        | B::ArabicLetter
                        | B::ArabicNumber
                        | B::EuropeanNumber
                        | B::EuropeanSeparator
                        | B::CommonSeparator
                        | B::EuropeanTerminator
                        | B::OtherNeutral
                        | B::BoundaryNeutral
                        | B::NonspacingMark
                )
            };
            let numbers = (bc.contains(&B::EuropeanNumber), bc.contains(&B::ArabicNumber));
            bc.iter().all(allowed)
                && matches!(last_strong, Some(B::RightToLeft | B::ArabicLetter | B::EuropeanNumber | B::ArabicNumber))
                && numbers != (true, true)
        }
        Some(B::LeftToRight) => {
            let allowed = |b: &B| {
                matches!(
                    *b,
                    B::LeftToRight
                        | B::EuropeanNumber
                        | B::EuropeanSeparator
                        | B::CommonSeparator
                        | B::EuropeanTerminator
                        | B::OtherNeutral
                        | B::BoundaryNeutral
                        | B::NonspacingMark
                )
            };
            bc.iter().all(allowed) && matches!(last_strong, Some(B::LeftToRight | B::EuropeanNumber))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use precis_core::profile::PrecisFastInvocation;
    use precis_core::{DerivedPropertyValue, IdentifierClass, StringClass};

    /// Every code point gets the IdentifierClass property the `precis-core` crate gives it, except
    /// those it calls UNASSIGNED: its table is IANA's, for Unicode 6.3, and ICU4X's data is a later
    /// Unicode (RFC 8264 §11 derives the property for the version in use), so letters added since
    /// (`Ϳ` U+037F, CJK extensions, …) are PVALID here.
    #[test]
    fn derived_property_matches_precis_core_for_every_code_point() {
        let reference = IdentifierClass::default();
        let (mut newer, mut differ) = (0, Vec::new());
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let want = match reference.get_value_from_char(c) {
                DerivedPropertyValue::PValid => Derived::PValid,
                DerivedPropertyValue::ContextJ => Derived::ContextJ,
                DerivedPropertyValue::ContextO => Derived::ContextO,
                DerivedPropertyValue::Unassigned if derived(c) != Derived::Disallowed => {
                    newer += 1;
                    continue;
                }
                _ => Derived::Disallowed,
            };
            if derived(c) != want {
                differ.push(format!("U+{:04X} {:?}/{want:?}", c as u32, derived(c)));
            }
        }
        assert!(differ.is_empty(), "{} differ: {:?}", differ.len(), &differ[..differ.len().min(40)]);
        assert!((50_000..70_000).contains(&newer), "{newer} code points assigned since Unicode 6.3");
    }

    /// Enforcement gives the crate's answer (the same key, or a refusal) on the RFC's own cases,
    /// the probe's look-alikes and the contextual rules.
    #[test]
    fn enforcement_matches_precis_profiles() {
        let cases = [
            "juliet",
            "JULIET",
            "Juliet",
            "ｊｕｌｉｅｔ",
            "ＪＵＬＩＥＴ",
            "user1-ａ",
            "jose\u{301}",
            "jos\u{e9}",
            "ﬁle",
            "straße",
            "ΣΑΣ",
            "\u{130}stanbul",
            "\u{212A}elvin",
            "\u{FF76}\u{FF9E}",
            "\u{3000}",
            "\u{FFE3}",
            "ｶﾀｶﾅ",
            "user\u{200B}1",
            "user1\u{202E}",
            "user1\u{E0041}",
            "a b",
            "",
            "\u{301}a",
            "\u{3164}",
            "π",
            "Σ",
            "ᾈ",
            "ǅ",
            "Ⅻ",
            "①",
            "¹",
            "l\u{B7}l",
            "a\u{B7}l",
            "\u{375}α",
            "\u{375}a",
            "א\u{5F3}",
            "a\u{5F3}",
            "カ\u{30FB}カ",
            "a\u{30FB}b",
            "\u{661}\u{662}",
            "\u{661}\u{6F2}",
            "क\u{94D}\u{200D}",
            "a\u{200D}",
            "\u{628}\u{200C}\u{628}",
            "a\u{200C}b",
            "שלום",
            "שלום1",
            "1שלום",
            "abcשלום",
            "\u{627}\u{644}\u{639}\u{631}\u{628}\u{64A}\u{629}",
            "\u{661}\u{627}",
            "\u{627}1\u{661}",
            "\u{5D0}\u{5B0}",
            "\u{1100}\u{1161}",
            "\u{AC00}",
            "\u{FDD0}",
            "\u{FFFF}",
            "\u{E000}",
            "\u{0378}",
            "\u{2665}",
            "a+b@c.d",
            "~!#$%^&*()",
        ];
        for s in cases {
            let want = precis_profiles::UsernameCaseMapped::enforce(s).map(|k| k.into_owned()).ok();
            assert_eq!(enforce_username(s).ok(), want, "{s:?} (U+{:04X}…)", s.chars().next().map_or(0, |c| c as u32));
        }
    }
}
