//! Calendar dates as plain day numbers, and the audit's exact date rules.
//!
//! Every window in the audit is defined in calendar months ending at the
//! index date T: a date d is in the N-month window when `T - N months < d <= T`.
//! When the day does not exist in the target month (31 March minus one
//! month), the month's last day is used. Keeping dates as day numbers makes
//! comparisons on the hot path single integer compares.

use std::fmt;

/// A calendar date, stored as days since 1970-01-01 (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Date(pub i32);

/// A date that may be missing, in four bytes (an `Option<Date>` takes
/// eight): per-patient columns of a national population stay small.
/// Missing sorts before every date, as `None` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct MaybeDate(i32);

impl MaybeDate {
    /// The missing date.
    pub(crate) const NONE: MaybeDate = MaybeDate(i32::MIN);

    /// The date, if there is one.
    pub fn get(self) -> Option<Date> {
        (self != MaybeDate::NONE).then_some(Date(self.0))
    }
}

impl From<Option<Date>> for MaybeDate {
    fn from(d: Option<Date>) -> MaybeDate {
        // Dates are days from 1970 within years 1900-9999: never i32::MIN.
        d.map_or(MaybeDate::NONE, |d| MaybeDate(d.0))
    }
}

/// The earliest year accepted in any input date.
pub const MIN_YEAR: i32 = 1900;
/// The latest year accepted in any input date (9999-12-31 is a common
/// "open ended" sentinel in registration exports).
pub const MAX_YEAR: i32 = 9999;

impl Date {
    /// Builds a date from year, month and day; `None` if it does not exist.
    pub(crate) fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date(days_from_civil(year, month, day)))
    }

    /// The (year, month, day) of this date.
    pub(crate) fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// Moves by whole calendar months, clamping the day to the target
    /// month's last day (2024-03-31 minus one month is 2024-02-29).
    pub(crate) fn add_months(self, months: i32) -> Date {
        let (y, m, d) = self.ymd();
        let total = y * 12 + (m as i32 - 1) + months;
        let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
        let nd = d.min(days_in_month(ny, nm));
        Date(days_from_civil(ny, nm, nd))
    }

    /// Moves by whole days.
    pub(crate) fn add_days(self, days: i32) -> Date {
        Date(self.0 + days)
    }

    /// Whole years of age on `on` for someone born on `self`.
    pub fn years_until(self, on: Date) -> i32 {
        let (by, bm, bd) = self.ymd();
        let (y, m, d) = on.ymd();
        let mut age = y - by;
        if (m, d) < (bm, bd) {
            age -= 1;
        }
        age
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl std::str::FromStr for Date {
    type Err = String;
    /// Parses an ISO date `YYYY-MM-DD` (used for command-line options).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DateFormat::Iso
            .parse(s)
            .ok_or_else(|| format!("'{s}' is not a date in the form YYYY-MM-DD"))
    }
}

/// How dates are written in an input column.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum DateFormat {
    /// `YYYY-MM-DD`, optionally followed by a time (`T...` or ` ...`), which is ignored.
    #[default]
    Iso,
    /// A strftime-like pattern using `%Y`, `%m`, `%d` and literal characters,
    /// e.g. `%d/%m/%Y` for EMIS and SystmOne exports.
    Pattern(String),
}

impl DateFormat {
    /// The format in words, for messages.
    pub fn describe(&self) -> String {
        match self {
            DateFormat::Iso => "YYYY-MM-DD (ISO)".to_string(),
            DateFormat::Pattern(p) => format!("'{p}'"),
        }
    }

    /// Reads a format name from a mapping file: `iso` or a `%`-pattern.
    pub(crate) fn from_spec(spec: &str) -> Result<DateFormat, String> {
        let lower = spec.trim().to_ascii_lowercase();
        if lower == "iso" || spec.trim() == "%Y-%m-%d" {
            return Ok(DateFormat::Iso);
        }
        if !(spec.contains("%Y") && spec.contains("%m") && spec.contains("%d")) {
            return Err(format!(
                "date format '{spec}' must be 'iso' or a pattern with %Y, %m and %d (e.g. %d/%m/%Y)"
            ));
        }
        Ok(DateFormat::Pattern(spec.to_string()))
    }

    /// Parses one value; `None` when it does not match or the date does not exist.
    /// Years outside [`MIN_YEAR`]..=[`MAX_YEAR`] are refused.
    pub fn parse(&self, raw: &str) -> Option<Date> {
        let s = crate::text::trimmed(raw);
        let (y, m, d) = match self {
            DateFormat::Iso => parse_iso(s.as_bytes())?,
            DateFormat::Pattern(p) => parse_pattern(p, s)?,
        };
        let y = y as i32;
        if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
            return None;
        }
        Date::from_ymd(y, m, d)
    }
}

/// `YYYY-MM-DD`, optionally followed by a time, as (year, month, day):
/// the eight digits are checked and read at once, without a loop.
fn parse_iso(b: &[u8]) -> Option<(u32, u32, u32)> {
    let &[y0, y1, y2, y3, dash1, m0, m1, dash2, d0, d1] = b.first_chunk::<10>()?;
    if (b.len() > 10 && b[10] != b'T' && b[10] != b' ') || dash1 != b'-' || dash2 != b'-' {
        return None;
    }
    let n = [y0, y1, y2, y3, m0, m1, d0, d1].map(|c| c.wrapping_sub(b'0') as u32);
    if n.iter().any(|&c| c > 9) {
        return None;
    }
    Some((
        n[0] * 1000 + n[1] * 100 + n[2] * 10 + n[3],
        n[4] * 10 + n[5],
        n[6] * 10 + n[7],
    ))
}

fn parse_pattern(pattern: &str, s: &str) -> Option<(u32, u32, u32)> {
    let (mut y, mut m, mut d) = (None, None, None);
    let pb = pattern.as_bytes();
    let sb = s.as_bytes();
    let (mut i, mut j) = (0, 0);
    while i < pb.len() {
        if pb[i] == b'%' && i + 1 < pb.len() {
            let width = match pb[i + 1] {
                b'Y' => 4,
                b'm' | b'd' => 2,
                _ => return None,
            };
            // Day and month may be written without a leading zero (1/2/2024).
            let mut end = j;
            while end < sb.len() && end - j < width && sb[end].is_ascii_digit() {
                end += 1;
            }
            if end == j || (width == 4 && end - j != 4) {
                return None;
            }
            let v = digits(&sb[j..end])?;
            match pb[i + 1] {
                b'Y' => y = Some(v),
                b'm' => m = Some(v),
                _ => d = Some(v),
            }
            j = end;
            i += 2;
        } else {
            if j >= sb.len() || sb[j] != pb[i] {
                return None;
            }
            i += 1;
            j += 1;
        }
    }
    // Trailing time of day ("01/02/2024 00:00") is ignored.
    if j < sb.len() && sb[j] != b' ' && sb[j] != b'T' {
        return None;
    }
    Some((y?, m?, d?))
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days algorithms.
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy as i32;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The quarter ends (31 March, 30 June, 30 September, 31 December) in a
/// range written in calendar quarters (`2023Q1..2024Q1`: Q1 is January to
/// March), in NHS financial-year quarters (`2023/24Q1..2024/25Q1`: Q1 is
/// April to June) or in dates (`2023-03-31..2024-03-31`); both ends
/// included. The two kinds of quarter end on the same days: 2023Q1 and
/// 2022/23Q4 are both 31 March 2023.
pub fn quarter_ends(range: &str) -> Result<Vec<Date>, String> {
    let err = || {
        format!("'{range}' is not a quarter range such as 2023Q1..2024Q1 (calendar), 2023/24Q1..2024/25Q1 (financial year) or 2023-03-31..2024-03-31")
    };
    let (from, to) = range.split_once("..").ok_or_else(err)?;
    let parse = |s: &str| -> Result<Date, String> {
        let s = s.trim();
        if let Some((y, q)) = s.split_once(['Q', 'q']) {
            let q: u32 = q.trim().parse().map_err(|_| err())?;
            if !(1..=4).contains(&q) {
                return Err(err());
            }
            let y = y.trim();
            // The last month of the quarter, counted from January of `year`.
            let (year, last_month) = match y.split_once('/') {
                Some((start, end)) => {
                    // `2023/24`: the year it starts, and the next one's last two digits.
                    let start: i32 = start.parse().map_err(|_| err())?;
                    if end.len() != 2
                        || end.parse::<i32>().ok() != start.checked_add(1).map(|n| n % 100)
                    {
                        return Err(err());
                    }
                    (start, q * 3 + 3)
                }
                None => (y.parse().map_err(|_| err())?, q * 3),
            };
            if !(MIN_YEAR..MAX_YEAR).contains(&year) {
                return Err(err());
            }
            let (year, month) = (
                year + (last_month as i32 - 1) / 12,
                (last_month - 1) % 12 + 1,
            );
            return Date::from_ymd(year, month, 1)
                .map(|d| d.add_months(1).add_days(-1))
                .ok_or_else(err);
        }
        s.parse::<Date>()
    };
    let (from, to) = (parse(from)?, parse(to)?);
    if to < from {
        return Err(format!("'{range}': the range ends before it starts"));
    }
    let (y, m, _) = from.ymd();
    // The first quarter end on or after `from`.
    let mut q = Date::from_ymd(y, m.div_ceil(3) * 3, 1)
        .ok_or_else(err)?
        .add_months(1)
        .add_days(-1);
    let mut out = Vec::new();
    while q <= to {
        out.push(q);
        q = q.add_days(1).add_months(3).add_days(-1);
    }
    Ok(out)
}

/// A calendar month: the period of public prescribing data and list sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(pub i32);

impl Month {
    /// The month of a year (1–12).
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (1900..=2200).contains(&year))
            .then(|| Month(year * 12 + month as i32 - 1))
    }

    /// Reads a prescribing period: `201709`, `2017_09` or `2017-09`.
    pub fn parse_period(raw: &str) -> Option<Month> {
        let raw = raw.trim();
        let (y, m) = match raw.len() {
            6 => (raw.get(..4)?, raw.get(4..)?),
            7 if matches!(raw.as_bytes()[4], b'_' | b'-') => (raw.get(..4)?, raw.get(5..)?),
            _ => return None,
        };
        if !(y.bytes().all(|b| b.is_ascii_digit()) && m.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
        Month::new(y.parse().ok()?, m.parse().ok()?)
    }

    /// Reads a list-size extract date: `01SEP2017` (NHS Digital) or ISO `2017-09-01`.
    pub(crate) fn parse_extract_date(raw: &str) -> Option<Month> {
        let raw = raw.trim();
        if let Ok(d) = raw.parse::<Date>() {
            let (y, m, _) = d.ymd();
            return Month::new(y, m);
        }
        const NAMES: [&str; 12] = [
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ];
        if raw.len() != 9 || !raw.is_ascii() {
            return None;
        }
        let day: u32 = raw[..2].parse().ok()?;
        let month = NAMES
            .iter()
            .position(|n| raw[2..5].eq_ignore_ascii_case(n))? as u32
            + 1;
        let year: i32 = raw[5..].parse().ok()?;
        Date::from_ymd(year, month, day)?;
        Month::new(year, month)
    }

    /// The year and month (1–12).
    pub(crate) fn year_month(self) -> (i32, u32) {
        (self.0.div_euclid(12), self.0.rem_euclid(12) as u32 + 1)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m) = self.year_month();
        write!(f, "{y:04}-{m:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn round_trips_through_day_numbers() {
        assert_eq!(Date::from_ymd(1970, 1, 1), Some(Date(0)));
        assert_eq!(d("2000-03-01").0 - d("2000-02-28").0, 2);
        for s in ["1900-01-01", "2024-02-29", "9999-12-31", "1969-12-31"] {
            assert_eq!(d(s).to_string(), s);
        }
    }

    #[test]
    fn impossible_dates_are_refused() {
        assert_eq!(DateFormat::Iso.parse("2023-02-29"), None);
        assert_eq!(DateFormat::Iso.parse("2023-02-30"), None);
        assert_eq!(DateFormat::Iso.parse("2023-13-01"), None);
        assert_eq!(DateFormat::Iso.parse("1899-12-31"), None);
        assert_eq!(DateFormat::Iso.parse("20230201"), None);
        assert_eq!(DateFormat::Iso.parse(""), None);
    }

    #[test]
    fn iso_with_time_keeps_the_date() {
        assert_eq!(
            DateFormat::Iso.parse("2024-01-05T10:00:00"),
            Some(d("2024-01-05"))
        );
        assert_eq!(
            DateFormat::Iso.parse("2024-01-05 10:00"),
            Some(d("2024-01-05"))
        );
    }

    #[test]
    fn day_month_year_patterns() {
        let f = DateFormat::from_spec("%d/%m/%Y").unwrap();
        assert_eq!(f.parse("31/03/2024"), Some(d("2024-03-31")));
        assert_eq!(f.parse("1/2/2024"), Some(d("2024-02-01")));
        assert_eq!(f.parse("31/02/2024"), None);
        assert_eq!(f.parse("2024-03-31"), None);
        assert!(DateFormat::from_spec("%d/%m").is_err());
    }

    #[test]
    fn months_clamp_to_the_last_day() {
        assert_eq!(d("2024-03-31").add_months(-1), d("2024-02-29"));
        assert_eq!(d("2024-03-31").add_months(-6), d("2023-09-30"));
        assert_eq!(d("2024-03-31").add_months(-12), d("2023-03-31"));
        assert_eq!(d("2023-01-15").add_months(13), d("2024-02-15"));
    }

    fn s_dates(s: &[String]) -> Vec<Date> {
        s.iter().map(|x| d(x)).collect()
    }

    #[test]
    fn quarter_ranges_expand_to_quarter_ends() {
        let q = quarter_ends("2023Q1..2024Q1").unwrap();
        let s: Vec<String> = q.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            s,
            [
                "2023-03-31",
                "2023-06-30",
                "2023-09-30",
                "2023-12-31",
                "2024-03-31"
            ]
        );
        assert_eq!(
            quarter_ends("2023-04-01..2023-12-31").unwrap(),
            vec![d("2023-06-30"), d("2023-09-30"), d("2023-12-31")]
        );
        // NHS financial-year quarters: 2023/24 Q1 is April to June 2023,
        // Q4 January to March 2024.
        let mut fy = s_dates(&s[1..]);
        fy.push(d("2024-06-30"));
        assert_eq!(quarter_ends("2023/24Q1..2024/25Q1").unwrap(), fy);
        assert_eq!(
            quarter_ends("2023/24Q4..2023/24Q4").unwrap(),
            vec![d("2024-03-31")]
        );
        assert_eq!(
            quarter_ends("2022/23Q4..2023Q2").unwrap(),
            vec![d("2023-03-31"), d("2023-06-30")]
        );
        assert_eq!(
            quarter_ends("1999/00Q3..1999/00Q4").unwrap(),
            vec![d("1999-12-31"), d("2000-03-31")]
        );
        for bad in [
            "2023/25Q1..2024/25Q1",
            "2023/2024Q1..2024/25Q1",
            "2023/24Q5..2024/25Q1",
        ] {
            assert!(quarter_ends(bad).is_err(), "{bad}");
        }
        assert!(quarter_ends("2023Q5..2024Q1").is_err());
        assert!(quarter_ends("2147483647/48Q1..2147483647/48Q2").is_err());
        assert!(quarter_ends("99999Q1..99999Q2").is_err());
        assert!(quarter_ends("2024Q1..2023Q1").is_err());
        assert!(quarter_ends("2024Q1").is_err());
    }

    #[test]
    fn age_counts_whole_years() {
        assert_eq!(d("2000-04-01").years_until(d("2024-03-31")), 23);
        assert_eq!(d("2000-03-31").years_until(d("2024-03-31")), 24);
    }

    #[test]
    fn prescribing_periods_in_every_published_form() {
        let sep17 = Month::new(2017, 9).unwrap();
        for raw in ["201709", "2017_09", "2017-09", " 201709 "] {
            assert_eq!(Month::parse_period(raw), Some(sep17), "{raw}");
        }
        for bad in ["201713", "2017_9", "17_09", "2017/09", "20170901", ""] {
            assert_eq!(Month::parse_period(bad), None, "{bad}");
        }
        assert_eq!(sep17.to_string(), "2017-09");
        assert_eq!(Month::parse_extract_date("01SEP2017"), Some(sep17));
        assert_eq!(Month::parse_extract_date("2017-09-01"), Some(sep17));
        assert_eq!(Month::parse_extract_date("31FEB2017"), None);
        assert_eq!(Month::parse_extract_date("01XYZ2017"), None);
    }

    proptest::proptest! {
        /// The calendar agrees with chrono's, an independent implementation:
        /// day numbers, (year, month, day), the text, whole months with the
        /// day clamped, and whole years of age (29 February's birthday
        /// falling on 1 March in other years).
        #[test]
        fn the_calendar_agrees_with_chrono(
            day in -25_567i32..2_932_896,
            other in -25_567i32..2_932_896,
            months in -1_200i32..1_200,
            y in 1900i32..=2200,
            m in 0u32..=13,
            d in 0u32..=32,
        ) {
            use chrono::{Datelike, Months, NaiveDate};
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
            let ours = Date(day);
            let theirs = epoch + chrono::Duration::days(day as i64);
            proptest::prop_assert_eq!(ours.ymd(), (theirs.year(), theirs.month(), theirs.day()));
            proptest::prop_assert_eq!(ours.to_string(), theirs.format("%Y-%m-%d").to_string());
            proptest::prop_assert_eq!(
                Date::from_ymd(y, m, d).map(|x| x.0 as i64),
                NaiveDate::from_ymd_opt(y, m, d).map(|x| (x - epoch).num_days())
            );
            let moved = if months >= 0 {
                theirs.checked_add_months(Months::new(months as u32))
            } else {
                theirs.checked_sub_months(Months::new(months.unsigned_abs()))
            };
            proptest::prop_assert_eq!(
                Some(ours.add_months(months).0 as i64),
                moved.map(|x| (x - epoch).num_days())
            );
            let on = epoch + chrono::Duration::days(other as i64);
            if on >= theirs {
                proptest::prop_assert_eq!(
                    Some(ours.years_until(Date(other)) as u32),
                    on.years_since(theirs)
                );
            }
        }

        /// The ISO reader agrees with a plain reading field by field, on
        /// dates and on near misses of them.
        #[test]
        fn iso_agrees_with_a_plain_reading(
            day in 0i32..2_932_896,
            suffix in proptest::sample::select(vec!["", "T10:00", " 10:00", "x", " ", "0"]),
            edits in proptest::collection::vec(
                (0usize..12, proptest::sample::select(b"0123456789-T x/".to_vec())), 0..3),
            cut in 0usize..13,
        ) {
            // A date of the accepted years (from 1900-01-01), with a suffix,
            // a few characters changed and perhaps cut short.
            let date = Date(day - 25_567);
            let mut bytes = format!("{date}{suffix}").into_bytes();
            for (at, c) in edits {
                if at < bytes.len() {
                    bytes[at] = c;
                }
            }
            if cut > 0 {
                bytes.truncate(cut - 1);
            }
            let s = String::from_utf8(bytes).unwrap_or_default();
            let plain = |s: &str| -> Option<Date> {
                let s = s.trim();
                let b = s.as_bytes();
                if b.len() < 10 || (b.len() > 10 && !matches!(b[10], b'T' | b' ')) {
                    return None;
                }
                if b[4] != b'-' || b[7] != b'-' {
                    return None;
                }
                let field = |r: std::ops::Range<usize>| -> Option<u32> {
                    let f = &s[r];
                    f.bytes().all(|c| c.is_ascii_digit()).then(|| f.parse().ok())?
                };
                let (y, m, d) = (field(0..4)?, field(5..7)?, field(8..10)?);
                if !(MIN_YEAR..=MAX_YEAR).contains(&(y as i32)) {
                    return None;
                }
                Date::from_ymd(y as i32, m, d)
            };
            proptest::prop_assert_eq!(DateFormat::Iso.parse(&s), plain(&s), "{:?}", s);
            // Every date of the accepted years reads back from its text.
            proptest::prop_assert_eq!(DateFormat::Iso.parse(&date.to_string()), Some(date));
        }
    }
}
