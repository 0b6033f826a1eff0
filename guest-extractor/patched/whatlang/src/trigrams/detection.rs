use std::sync::LazyLock;

use hashbrown::HashMap;

use super::LangProfileList;
use super::utils::{TrigramsWithPositions, get_trigrams_with_positions};
use super::{ARABIC_LANGS, CYRILLIC_LANGS, DEVANAGARI_LANGS, HEBREW_LANGS, LATIN_LANGS};
use super::{MAX_TOTAL_DISTANCE, MAX_TRIGRAM_DISTANCE, Trigram};
use crate::Lang;
use crate::core::{FilterList, Info, InternalQuery, Text, calculate_confidence};
use crate::scripts::grouping::MultiLangScript;

#[derive(Debug)]
pub struct RawOutcome {
    pub trigrams_count: usize,
    #[allow(dead_code)]
    pub raw_distances: Vec<(Lang, u32)>,
    pub scores: Vec<(Lang, f64)>,
}

#[inline]
pub fn detect(iquery: &InternalQuery) -> Option<Info> {
    let raw_outcome = raw_detect(iquery);
    let RawOutcome {
        trigrams_count,
        scores,
        ..
    } = raw_outcome;

    let mut raw_scores_iter = scores.into_iter();

    let opt_lang_score1 = raw_scores_iter.next();
    let opt_lang_score2 = raw_scores_iter.next();

    // TODO: Logic is duplicated in alphabets. Consider refactoring
    opt_lang_score1.map(|(lang1, score1)| {
        let script = iquery.multi_lang_script.to_script();
        let confidence = if let Some((_, score2)) = opt_lang_score2 {
            calculate_confidence(score1, score2, trigrams_count)
        } else {
            1.0
        };
        Info::new(script, lang1, confidence)
    })
}

#[inline]
pub fn raw_detect(iquery: &InternalQuery) -> RawOutcome {
    let list = script_list_index(iquery.multi_lang_script);
    calculate_scores_in_profiles(&iquery.text, iquery.filter_list, list)
}

/// The profile lists, each script's languages, in the order [`PROFILE_INDEX`] numbers them.
static PROFILE_LISTS: [LangProfileList; 5] = [
    LATIN_LANGS,
    CYRILLIC_LANGS,
    ARABIC_LANGS,
    DEVANAGARI_LANGS,
    HEBREW_LANGS,
];

/// The index of a script's list in [`PROFILE_LISTS`].
fn script_list_index(script: MultiLangScript) -> u8 {
    use MultiLangScript as MLS;
    match script {
        MLS::Latin => 0,
        MLS::Cyrillic => 1,
        MLS::Arabic => 2,
        MLS::Devanagari => 3,
        MLS::Hebrew => 4,
    }
}

/// Where a trigram stands in a language's profile: the language's index in its list and
/// the trigram's position in the profile.
#[derive(Debug, Clone, Copy)]
struct ProfilePosition {
    lang: u8,
    position: u16,
}

/// Every profile's trigrams, by list and trigram (RipTide patch): a text's distance to each
/// language of a list is found from the text's trigrams, each looked up once, instead of
/// looking up each of every language's 300 profile trigrams in the text's (15,300 lookups
/// per Latin text). Built once, at the first detection by trigrams.
static PROFILE_INDEX: LazyLock<HashMap<(u8, Trigram), Vec<ProfilePosition>>> =
    LazyLock::new(|| {
        let mut index: HashMap<(u8, Trigram), Vec<ProfilePosition>> = HashMap::new();
        for (list, profiles) in (0u8..).zip(PROFILE_LISTS) {
            for (lang, &(_, profile)) in (0u8..).zip(profiles) {
                for (position, &trigram) in (0u16..).zip(profile) {
                    index
                        .entry((list, trigram))
                        .or_default()
                        .push(ProfilePosition { lang, position });
                }
            }
        }
        index
    });

#[inline]
fn calculate_scores_in_profiles(text: &Text, filter_list: &FilterList, list: u8) -> RawOutcome {
    let mut lang_distances: Vec<(Lang, u32)> = vec![];

    let TrigramsWithPositions {
        trigram_positions, ..
    } = get_trigrams_with_positions(&text.lowercase());
    let unique_trigrams_count = trigram_positions.len();

    let lang_profile_list = PROFILE_LISTS[usize::from(list)];
    let distances = profile_distances(list, &trigram_positions);
    for (&(lang, _), dist) in lang_profile_list.iter().zip(distances) {
        if !filter_list.is_allowed(lang) {
            continue;
        }
        lang_distances.push(((lang), dist));
    }

    // Sort languages by distance
    lang_distances.sort_unstable_by_key(|(_, dist)| *dist);

    let max_dist = unique_trigrams_count as u32 * MAX_TRIGRAM_DISTANCE;

    let raw_scores = lang_distances
        .iter()
        .map(|&(lang, distance)| (lang, distance_to_raw_score(distance, max_dist)))
        .collect();

    RawOutcome {
        trigrams_count: unique_trigrams_count,
        scores: raw_scores,
        raw_distances: lang_distances,
    }
}

/// What `calculate_distance` gives for each language of list `list`, in its order: each
/// profile trigram the text lacks counts [`MAX_TRIGRAM_DISTANCE`], each it has the distance
/// between their positions, so a profile's sum is its length times the maximum plus, for the
/// trigrams found, their distance less the maximum.
fn profile_distances(list: u8, text_trigrams: &HashMap<Trigram, u32>) -> Vec<u32> {
    let max = i64::from(MAX_TRIGRAM_DISTANCE);
    let mut sums: Vec<i64> = PROFILE_LISTS[usize::from(list)]
        .iter()
        .map(|(_, profile)| profile.len() as i64 * max)
        .collect();
    for (&trigram, &n) in text_trigrams {
        let Some(positions) = PROFILE_INDEX.get(&(list, trigram)) else {
            continue;
        };
        for found in positions {
            sums[usize::from(found.lang)] += (i64::from(n) - i64::from(found.position)).abs() - max;
        }
    }
    sums.into_iter()
        .map(|sum| {
            let total_dist = u32::try_from(sum).expect("a sum of distances is not negative");
            finish_distance(total_dist, text_trigrams)
        })
        .collect()
}

/// A profile's distance from its sum of trigram distances.
fn finish_distance(mut total_dist: u32, text_trigrams: &HashMap<Trigram, u32>) -> u32 {
    let count = text_trigrams.len() as u32;

    if MAX_TRIGRAM_DISTANCE > count {
        let delta = MAX_TRIGRAM_DISTANCE - count;
        total_dist -= delta * MAX_TRIGRAM_DISTANCE;
    }

    total_dist.clamp(0, MAX_TOTAL_DISTANCE)
}

#[inline]
fn distance_to_raw_score(distance: u32, max_distance: u32) -> f64 {
    let similarity = max_distance - distance;
    similarity as f64 / max_distance as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigrams::LangProfile;

    /// The published `calculate_distance`: each profile trigram looked up in the text's.
    fn calculate_distance(
        lang_trigrams: LangProfile,
        text_trigrams: &HashMap<Trigram, u32>,
    ) -> u32 {
        let mut total_dist = 0u32;

        for (i, &trigram) in lang_trigrams.iter().enumerate() {
            let dist = match text_trigrams.get(&trigram) {
                Some(&n) => (n as i32 - i as i32).unsigned_abs(),
                None => MAX_TRIGRAM_DISTANCE,
            };
            total_dist += dist;
        }

        finish_distance(total_dist, text_trigrams)
    }

    #[test]
    fn profile_distances_are_those_of_a_lookup_per_profile_trigram() {
        let mut numbers = super::super::test_numbers(0x9e37_79b9_7f4a_7c15);
        let mut next = move |below: usize| numbers(below as u64) as usize;
        for (list, profiles) in (0u8..).zip(PROFILE_LISTS) {
            for round in 0..40 {
                // 0 to 600 distinct trigrams, most from the list's profiles (so positions
                // near, far and beyond a profile's length all occur), some of letters only.
                let wanted =
                    [0, 1, 50, 299, 300, 301, 599, 600][round % 8].max(next(601) * (round / 8 % 2));
                let mut trigrams = Vec::new();
                while trigrams.len() < wanted {
                    let trigram = if next(10) < 7 {
                        let (_, profile) = profiles[next(profiles.len())];
                        profile[next(profile.len())]
                    } else {
                        let letter = |i: usize| char::from(b'a' + (i % 26) as u8);
                        Trigram(letter(next(26)), letter(next(26)), letter(next(26)))
                    };
                    if !trigrams.contains(&trigram) {
                        trigrams.push(trigram);
                    }
                }
                let text: HashMap<Trigram, u32> =
                    (0u32..).zip(&trigrams).map(|(n, &t)| (t, n)).collect();
                let expected: Vec<u32> = profiles
                    .iter()
                    .map(|&(_, profile)| calculate_distance(profile, &text))
                    .collect();
                assert_eq!(
                    profile_distances(list, &text),
                    expected,
                    "list {list}, round {round}"
                );
            }
        }
    }

    #[test]
    fn test_when_german_is_given() {
        let text = "Die Ordnung muss für immer in diesem Codebase bleiben";
        let iq = InternalQuery {
            text: Text::new(text),
            filter_list: &FilterList::default(),
            multi_lang_script: MultiLangScript::Latin,
        };
        let raw_outcome = raw_detect(&iq);

        assert_eq!(raw_outcome.trigrams_count, 50);

        let &(first_lang, first_score) = raw_outcome.scores.first().unwrap();
        let &(_last_lang, last_score) = raw_outcome.scores.last().unwrap();

        assert_eq!(first_lang, Lang::Deu);

        assert!(first_score >= 0.0);
        assert!(first_score <= 1.0);

        assert!(last_score >= 0.0);
        assert!(last_score <= 1.0);
    }
}
