//! Language of the extracted text: detected with whatlang when the text is long enough
//! to be reliable, otherwise the language the page declares.

use whatlang::Lang;

/// Fewer characters than this are too few for a reliable detection.
const MIN_DETECTION_CHARS: usize = 40;
/// Detection reads at most this much text: more adds time, not accuracy.
const MAX_DETECTION_BYTES: usize = 4096;

/// The ISO 639-1 code of the text's language, or of the declared one.
pub fn detect(text: &str, declared: Option<&str>) -> Option<String> {
    let sample = truncate_at_char_boundary(text, MAX_DETECTION_BYTES);
    if sample.chars().count() >= MIN_DETECTION_CHARS {
        if let Some(info) = whatlang::detect(sample) {
            if info.is_reliable() {
                if let Some(code) = iso_639_1(info.lang()) {
                    return Some(code.to_string());
                }
            }
        }
    }
    declared.and_then(primary_subtag)
}

/// `en-US` → `en`; `pt_BR` → `pt`; rejects what is not a language tag.
fn primary_subtag(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    (2..=3)
        .contains(&primary.len())
        .then_some(primary)
        .filter(|p| p.chars().all(|c| c.is_ascii_alphabetic()))
}

fn truncate_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn iso_639_1(lang: Lang) -> Option<&'static str> {
    use Lang::*;
    Some(match lang {
        Epo => "eo",
        Eng => "en",
        Rus => "ru",
        Cmn => "zh",
        Spa => "es",
        Por => "pt",
        Ita => "it",
        Ben => "bn",
        Fra => "fr",
        Deu => "de",
        Ukr => "uk",
        Kat => "ka",
        Ara => "ar",
        Hin => "hi",
        Jpn => "ja",
        Heb => "he",
        Yid => "yi",
        Pol => "pl",
        Amh => "am",
        Jav => "jv",
        Kor => "ko",
        Nob => "nb",
        Dan => "da",
        Swe => "sv",
        Fin => "fi",
        Tur => "tr",
        Nld => "nl",
        Hun => "hu",
        Ces => "cs",
        Ell => "el",
        Bul => "bg",
        Bel => "be",
        Mar => "mr",
        Kan => "kn",
        Ron => "ro",
        Slv => "sl",
        Hrv => "hr",
        Srp => "sr",
        Mkd => "mk",
        Lit => "lt",
        Lav => "lv",
        Est => "et",
        Tam => "ta",
        Vie => "vi",
        Urd => "ur",
        Tha => "th",
        Guj => "gu",
        Uzb => "uz",
        Pan => "pa",
        Aze => "az",
        Ind => "id",
        Tel => "te",
        Pes => "fa",
        Mal => "ml",
        Ori => "or",
        Mya => "my",
        Nep => "ne",
        Sin => "si",
        Khm => "km",
        Tuk => "tk",
        Aka => "ak",
        Zul => "zu",
        Sna => "sn",
        Afr => "af",
        Lat => "la",
        Slk => "sk",
        Cat => "ca",
        Tgl => "tl",
        Hye => "hy",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_long_text_and_falls_back_to_declaration() {
        let english = "The committee said on Tuesday that the new rules would take effect next year, \
            and that companies which fail to comply with them could face fines of up to four percent of their revenue.";
        assert_eq!(detect(english, Some("fr")).as_deref(), Some("en"));
        let german = "Der Ausschuss teilte am Dienstag mit, dass die neuen Regeln im nächsten Jahr in Kraft treten \
            und Unternehmen, die sich nicht daran halten, mit hohen Strafen rechnen müssen.";
        assert_eq!(detect(german, None).as_deref(), Some("de"));
        assert_eq!(detect("ok", Some("pt-BR")).as_deref(), Some("pt"));
        assert_eq!(detect("ok", Some("??")), None);
    }
}
