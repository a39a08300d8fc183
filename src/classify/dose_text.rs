//! The daily amount a prescription's dosage instruction states, when it
//! states one clearly ("1 twice a day", "2 at night", "10ml daily", "take
//! ONE tablet THREE times a day", "1 bd").
//!
//! GP systems carry the instruction as free text next to each issue. When it
//! names one amount and one daily frequency, that amount is the patient's
//! dose, better than an estimate from quantities and issue intervals. Any
//! doubt gives `None`, never a guess: a range ("1-2"), a choice ("1 or 2"),
//! "when required", "as directed", a weekly or alternate-day frequency, or
//! two instructions in one ("1 in the morning and 2 at night" is read as
//! 3 a day only because both parts are clear).

/// What a stated amount counts: dose units (tablets, capsules, sachets,
/// injections) or millilitres of a liquid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StatedUnit {
    /// Tablets, capsules, sachets or other whole units of the product.
    Units,
    /// Millilitres.
    Ml,
}

/// A clear daily amount from a dosage instruction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DailyAmount {
    /// How many units (or millilitres) a day.
    pub per_day: f64,
    /// What `per_day` counts.
    pub unit: StatedUnit,
}

/// Words that make an instruction unclear: the amount or its timing is a
/// choice, conditional, or not daily.
const UNCLEAR: &[&str] = &[
    "or",
    "prn",
    "required",
    "needed",
    "directed",
    "week",
    "weekly",
    "weeks",
    "alternate",
    "fortnightly",
    "month",
    "monthly",
    "if",
    "when",
    "upto",
    "max",
    "maximum",
    "reducing",
    "increasing",
    "then",
];

/// Words that carry no amount or frequency.
const FILLER: &[&str] = &[
    "take",
    "taken",
    "be",
    "give",
    "given",
    "use",
    "a",
    "an",
    "the",
    "of",
    "each",
    "every",
    "per",
    "day",
    "daily",
    "in",
    "at",
    "and",
    "with",
    "by",
    "mouth",
    "orally",
    "oral",
    "dose",
    "doses",
    "tablet",
    "tablets",
    "tab",
    "tabs",
    "capsule",
    "capsules",
    "cap",
    "caps",
    "sachet",
    "sachets",
    "times",
    "time",
    "x",
    "morning",
    "night",
    "evening",
    "bedtime",
    "food",
    "after",
    "before",
    "breakfast",
    "lunch",
    "tea",
    "meal",
    "meals",
    "spoonful",
    "spoonfuls",
    "s",
    "for",
    "on",
    "to",
];

/// The daily amount `text` states, if it states one clearly.
pub fn daily_amount(text: &str) -> Option<DailyAmount> {
    let lower = text.to_ascii_lowercase();
    if lower.contains('-') || lower.contains('/') || lower.contains("upto") {
        return None;
    }
    let words = tokens(&lower);
    if words.iter().any(|w| UNCLEAR.contains(&w.as_str())) {
        return None;
    }
    // Parts joined by "and" are summed: "1 in the morning and 2 at night".
    let mut total = 0.0;
    let mut unit = None;
    for part in words.split(|w| w == "and") {
        let (amount, part_unit, times) = read_part(part)?;
        if unit.is_some_and(|u| u != part_unit) {
            return None;
        }
        unit = Some(part_unit);
        total += amount * times;
    }
    (total > 0.0).then(|| DailyAmount {
        per_day: total,
        unit: unit.unwrap_or(StatedUnit::Units),
    })
}

/// Lower-case words, with a number glued to its unit split off ("10ml",
/// "2x") and punctuation dropped.
fn tokens(lower: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in
        lower.split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '(' || c == ')')
    {
        let w = raw.trim_matches(|c: char| c == '.' || c == ':' || c == '!');
        if w.is_empty() {
            continue;
        }
        let split = w
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&i| i > 0 && i < w.len());
        match split {
            Some(i) => {
                out.push(w[..i].to_string());
                out.push(w[i..].to_string());
            }
            None => out.push(w.to_string()),
        }
    }
    out
}

/// One instruction: exactly one amount, at most one unit, exactly one daily
/// frequency (a bare "daily" or a time of day is once).
fn read_part(words: &[String]) -> Option<(f64, StatedUnit, f64)> {
    let mut amount = None;
    let mut unit = StatedUnit::Units;
    let mut times: Option<f64> = None;
    let mut once_words = 0;
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        if let Some(n) = frequency_word(w) {
            if times.replace(n).is_some() {
                return None;
            }
        } else if let (Some(n), Some("times" | "time" | "x")) = (number(w), next) {
            // "3 times a day", "2x daily": the count is a frequency.
            if times.replace(n).is_some() {
                return None;
            }
            i += 1;
        } else if w == "to" && next.and_then(number).is_some() {
            // "1 to 2": a range.
            return None;
        } else if let Some(n) = number(w) {
            if amount.replace(n).is_some() {
                return None;
            }
        } else if matches!(w, "ml" | "mls" | "millilitre" | "millilitres") {
            unit = StatedUnit::Ml;
        } else if matches!(w, "mg" | "microgram" | "micrograms" | "mcg" | "g") {
            // An amount in milligrams would need the strength the other way
            // round; too rare in GP text to be worth the risk.
            return None;
        } else if matches!(
            w,
            "daily" | "day" | "morning" | "night" | "evening" | "bedtime" | "mane" | "nocte" | "od"
        ) {
            once_words += 1;
        } else if !FILLER.contains(&w) {
            return None;
        }
        i += 1;
    }
    let times = match times {
        Some(n) => n,
        None if once_words > 0 => 1.0,
        None => return None,
    };
    Some((amount?, unit, times))
}

/// A frequency given as one word: "bd", "twice", "tds", "qds".
fn frequency_word(w: &str) -> Option<f64> {
    match w {
        "once" => Some(1.0),
        "twice" | "bd" | "bid" => Some(2.0),
        "thrice" | "tds" | "tid" => Some(3.0),
        "qds" | "qid" => Some(4.0),
        _ => None,
    }
}

/// An amount: digits ("2", "0.5", "2.5") or a word ("one", "half").
fn number(w: &str) -> Option<f64> {
    let n = match w {
        "half" => 0.5,
        "one" => 1.0,
        "two" => 2.0,
        "three" => 3.0,
        "four" => 4.0,
        "five" => 5.0,
        "six" => 6.0,
        _ => {
            if !w.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            w.parse().ok()?
        }
    };
    (n > 0.0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(per_day: f64) -> Option<DailyAmount> {
        Some(DailyAmount {
            per_day,
            unit: StatedUnit::Units,
        })
    }

    #[test]
    fn clear_instructions_give_their_daily_amount() {
        let ml = |per_day| {
            Some(DailyAmount {
                per_day,
                unit: StatedUnit::Ml,
            })
        };
        let cases = [
            ("1 twice a day", units(2.0)),
            ("2 at night", units(2.0)),
            ("10ml daily", ml(10.0)),
            ("5 ml twice daily", ml(10.0)),
            ("Take ONE tablet THREE times a day", units(3.0)),
            ("take one daily", units(1.0)),
            ("1 bd", units(2.0)),
            ("ONE TO BE TAKEN EACH MORNING", units(1.0)),
            ("2 tablets twice a day", units(4.0)),
            ("1 tds", units(3.0)),
            ("1 qds", units(4.0)),
            ("half a tablet at night", units(0.5)),
            ("0.5 nocte", units(0.5)),
            ("1 od", units(1.0)),
            ("take 1 tablet 3 times a day", units(3.0)),
            ("1 in the morning and 2 at night", units(3.0)),
            ("1 capsule daily (with food)", units(1.0)),
        ];
        for (text, want) in cases {
            assert_eq!(daily_amount(text), want, "{text:?}");
        }
    }

    #[test]
    fn unclear_instructions_give_none() {
        for text in [
            "",
            "as directed",
            "1-2 at night",
            "1 or 2 at night",
            "1 when required",
            "1 prn",
            "2 every week",
            "1 on alternate days",
            "as per psychiatrist",
            "10mg daily",
            "one",
            "take daily",
            "1 twice a day 2 at night",
            "1 in the morning and 10ml at night",
            "one tablet up to three times a day",
            "1 to 2 daily",
        ] {
            assert_eq!(daily_amount(text), None, "{text:?}");
        }
    }
}
