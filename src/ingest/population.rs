//! Patients and their registrations: who is in the population at an index date.
//!
//! Registered at T: a registration with `start_date <= T` and (`end_date`
//! empty or `end_date > T`); with several, the latest start wins (then the
//! later end, then the lower practice index, so the choice never depends on
//! row order). Alive at T: `date_of_death` empty or `> T`.

use std::convert::Infallible;

use rayon::prelude::*;
use serde::Serialize;

use super::accounting::{RejectReason, Tally};
use super::memo::Memo;
use super::patient_ids::{as_number, PatientIds};
use super::practices::Practices;
use super::source::{Batch, ScanError, SourceError, TableSource, ValueKey};
use super::table::TableKind;
use crate::date::{Date, DateFormat, MaybeDate};

/// Rows of a batch parsed by one task: a default batch gives each of a few
/// workers several chunks (parsing is all there is to do per row here,
/// unlike the medications fold, whose chunks are long for their memory).
const PARSE_CHUNK_ROWS: usize = super::DEFAULT_BATCH_ROWS / 4;

/// Recorded sex, as ehrQL writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Sex {
    /// female / F
    Female,
    /// male / M
    Male,
    /// intersex / I
    Intersex,
    /// unknown / U, or not recorded
    #[default]
    Unknown,
}

impl Sex {
    /// Reads `female/male/intersex/unknown` or `F/M/I/U`, any case.
    pub fn parse(s: &str) -> Option<Sex> {
        let s = crate::text::trimmed(s);
        let (&first, rest) = s.as_bytes().split_first()?;
        let sex = match first.to_ascii_lowercase() {
            b'f' => Sex::Female,
            b'm' => Sex::Male,
            b'i' => Sex::Intersex,
            b'u' => Sex::Unknown,
            _ => return None,
        };
        // Byte by byte: these words are too short to be worth a memcmp call.
        let word = &sex.as_str().as_bytes()[1..];
        let matches = |(a, b): (&u8, &u8)| a.to_ascii_lowercase() == *b;
        (rest.is_empty() || (rest.len() == word.len() && rest.iter().zip(word).all(matches)))
            .then_some(sex)
    }

    /// The lowercase name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Intersex => "intersex",
            Sex::Unknown => "unknown",
        }
    }
}

/// One registration period of a patient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Registration {
    /// Dense patient index.
    pub patient: u32,
    pub period: Period,
}

/// When and where a patient was registered; a patient's periods are kept
/// together, so the patient is not repeated (12 bytes a registration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Period {
    /// First day registered.
    pub start: Date,
    /// First day no longer registered; missing while still registered.
    pub end: MaybeDate,
    /// Dense practice index.
    pub practice: u32,
}

/// A parsed registrations row: (row in batch, patient, start, end).
type RegistrationRow = (usize, u32, Date, Option<Date>);
/// A registrations row with its practice, when the practice is known yet.
type PracticedRow = (RegistrationRow, Option<u32>);

/// The patients rows of one chunk of a batch, parsed in parallel, column
/// by column, before they are numbered in file order.
struct PatientChunk {
    /// The chunk's rows in the batch; those without an id were rejected,
    /// the others are kept, in order.
    range: std::ops::Range<usize>,
    /// The ids as numbers ([`as_number`]); `None` when one is text.
    numbers: Option<Vec<u64>>,
    date_of_birth: Vec<MaybeDate>,
    date_of_death: Vec<MaybeDate>,
    sex: Vec<Sex>,
    /// Rows rejected and values cleared.
    tally: Tally,
}

/// The patient id of row `i` (column 0), or `None` after rejecting the
/// row for having none.
pub(crate) fn id_of<'a>(
    b: &'a Batch,
    i: usize,
    table: TableKind,
    t: &mut Tally,
) -> Option<&'a str> {
    let id = b.get(0, i);
    if id.is_none() {
        let reason = RejectReason::EmptyPatientId;
        t.rejected(table, b.location(i), "patient_id", None, reason);
    }
    id
}

impl PatientChunk {
    /// Parses rows `range` of `b`. A row without an id is rejected; a bad
    /// date or sex is cleared and reported.
    fn parse(b: &Batch, range: std::ops::Range<usize>, fmt: &DateFormat) -> PatientChunk {
        let table = TableKind::Patients;
        let n = range.len();
        let mut c = PatientChunk {
            range: range.clone(),
            numbers: Some(Vec::with_capacity(n)),
            date_of_birth: Vec::with_capacity(n),
            date_of_death: Vec::with_capacity(n),
            sex: Vec::with_capacity(n),
            tally: Tally::default(),
        };
        let t = &mut c.tally;
        // A few distinct words: each read once.
        let mut sexes: Memo<ValueKey, Sex> = Memo::new(4);
        for i in range {
            let loc = || b.location(i);
            let Some(id) = id_of(b, i, table, t) else {
                continue;
            };
            match (&mut c.numbers, as_number(id)) {
                (Some(numbers), Some(n)) => numbers.push(n),
                (numbers, _) => *numbers = None,
            }
            let mut date = |col: usize, name: &'static str| {
                let raw = b.get(col, i)?;
                let parsed = b.date_format(col, fmt).parse(raw);
                if parsed.is_none() {
                    t.cleared(table, loc(), name, raw, RejectReason::InvalidDate);
                }
                parsed
            };
            let (dob, dod) = (date(1, "date_of_birth"), date(3, "date_of_death"));
            let sex = sexes
                .get_or_try(b.value_key(2, i), || match b.get(2, i) {
                    None => Some(Sex::Unknown),
                    Some(raw) => Sex::parse(raw).or_else(|| {
                        t.cleared(table, loc(), "sex", raw, RejectReason::InvalidCode);
                        None
                    }),
                })
                .unwrap_or(Sex::Unknown);
            c.date_of_birth.push(dob.into());
            c.date_of_death.push(dod.into());
            c.sex.push(sex);
        }
        c
    }
}

/// Every patient of the extract, indexed densely, with their registrations.
#[derive(Debug, Default)]
pub(crate) struct Population {
    /// Pseudonymised id of each patient.
    pub ids: PatientIds,
    /// Date of birth, when known.
    pub date_of_birth: Vec<MaybeDate>,
    /// Date of death, when recorded.
    pub date_of_death: Vec<MaybeDate>,
    /// Recorded sex.
    pub sex: Vec<Sex>,
    /// Registration periods, patient by patient ([`Population::offsets`]).
    registrations: Vec<Period>,
    /// Where each patient's periods start in `registrations`.
    offsets: Vec<u32>,
}

/// What is kept of each patient once the cohort is evaluated, for the
/// review lines: id, date of birth and sex. The registration periods and
/// dates of death, most of a national population's memory, are gone.
pub(crate) struct Identities {
    /// Pseudonymised id of each patient.
    pub ids: PatientIds,
    /// Date of birth, when known.
    pub date_of_birth: Vec<MaybeDate>,
    /// Recorded sex.
    pub sex: Vec<Sex>,
}

impl Population {
    /// Number of patients.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// The patients' identities alone, the rest freed.
    pub(crate) fn into_identities(self) -> Identities {
        Identities {
            ids: self.ids,
            date_of_birth: self.date_of_birth,
            sex: self.sex,
        }
    }

    /// The practice a patient is registered at on `t`, if registered and alive.
    pub(crate) fn practice_at(&self, patient: u32, t: Date) -> Option<u32> {
        let p = patient as usize;
        if self.date_of_death[p].get().is_some_and(|d| d <= t) {
            return None;
        }
        let regs = &self.registrations[self.offsets[p] as usize..self.offsets[p + 1] as usize];
        regs.iter()
            .filter(|r| r.start <= t && r.end.get().is_none_or(|e| e > t))
            .max_by(|a, b| {
                (
                    a.start,
                    a.end.get().unwrap_or(Date(i32::MAX)),
                    std::cmp::Reverse(a.practice),
                )
                    .cmp(&(
                        b.start,
                        b.end.get().unwrap_or(Date(i32::MAX)),
                        std::cmp::Reverse(b.practice),
                    ))
            })
            .map(|r| r.practice)
    }

    /// When the unbroken registration that spans `t` began: the start of the
    /// period registered at `t`, extended back through periods that end on
    /// or after it starts (a move between practices of the extract keeps
    /// the patient's history in view). `None` when not registered at `t`.
    pub(crate) fn registered_since(&self, patient: u32, t: Date) -> Option<Date> {
        let p = patient as usize;
        let regs = &self.registrations[self.offsets[p] as usize..self.offsets[p + 1] as usize];
        let mut since = regs
            .iter()
            .filter(|r| r.start <= t && r.end.get().is_none_or(|e| e > t))
            .map(|r| r.start)
            .min()?;
        while let Some(earlier) = regs
            .iter()
            .filter(|r| r.start < since && r.end.get().is_none_or(|e| e >= since))
            .map(|r| r.start)
            .min()
        {
            since = earlier;
        }
        Some(since)
    }

    /// Reads the patients table. A repeated id rejects the later row; a bad
    /// date of birth, date of death or sex is set to missing and reported.
    /// Each batch is parsed in parallel chunks, then indexed in file order.
    pub(crate) fn load_patients(
        source: &TableSource,
        batch_rows: usize,
        tally: &mut Tally,
    ) -> Result<Population, SourceError> {
        let table = TableKind::Patients;
        let fmt = &source.mapping.date_format;
        let mut pop = Population::default();
        let hint = source.row_count_hint();
        pop.ids.reserve(hint);
        pop.date_of_birth.reserve(hint);
        pop.date_of_death.reserve(hint);
        pop.sex.reserve(hint);
        let structural = source
            .for_each_batch(
                &["patient_id", "date_of_birth", "sex", "date_of_death"],
                batch_rows,
                |b| {
                    let parsed: Vec<PatientChunk> = b
                        .chunk_ranges(PARSE_CHUNK_ROWS)
                        .into_par_iter()
                        .map(|(lo, hi)| PatientChunk::parse(&b, lo..hi, fmt))
                        .collect();
                    for chunk in parsed {
                        tally.merge(chunk.tally);
                        let fast = chunk.numbers.is_some_and(|n| pop.ids.extend_ascending(&n));
                        if fast {
                            pop.date_of_birth.extend_from_slice(&chunk.date_of_birth);
                            pop.date_of_death.extend_from_slice(&chunk.date_of_death);
                            pop.sex.extend_from_slice(&chunk.sex);
                            tally.used_rows(chunk.sex.len() as u64);
                            continue;
                        }
                        // The kept rows again (those with an id), one by one.
                        let kept = chunk.range.clone().filter_map(|i| Some((i, b.get(0, i)?)));
                        for (k, (i, id)) in kept.enumerate() {
                            if pop.ids.insert(id).is_none() {
                                tally.rejected(
                                    table,
                                    b.location(i),
                                    "patient_id",
                                    Some(id),
                                    RejectReason::DuplicatePatient,
                                );
                                continue;
                            }
                            pop.date_of_birth.push(chunk.date_of_birth[k]);
                            pop.date_of_death.push(chunk.date_of_death[k]);
                            pop.sex.push(chunk.sex[k]);
                            tally.used();
                        }
                    }
                    Ok::<(), Infallible>(())
                },
            )
            .map_err(ScanError::into_source)?;
        tally.merge(structural);
        pop.offsets = vec![0; pop.ids.len() + 1];
        Ok(pop)
    }

    /// Reads the registrations table. Practices not in the practices table
    /// are added as unlisted (kept, under unknown localities), never dropped.
    pub(crate) fn load_registrations(
        &mut self,
        source: &TableSource,
        practices: &mut Practices,
        batch_rows: usize,
        tally: &mut Tally,
    ) -> Result<(), SourceError> {
        let fmt = &source.mapping.date_format;
        let mut regs = Vec::with_capacity(source.row_count_hint());
        let this = &*self;
        let structural = source
            .for_each_batch(
                &["patient_id", "practice_code", "start_date", "end_date"],
                batch_rows,
                |b| {
                    // Practices are looked up in parallel; one not seen yet
                    // is added afterwards, in file order.
                    let known = &*practices;
                    let parsed: Vec<(Vec<PracticedRow>, Tally)> = b
                        .chunk_ranges(PARSE_CHUNK_ROWS)
                        .into_par_iter()
                        .map(|(lo, hi)| {
                            let mut t = Tally::default();
                            let mut near = None;
                            // Practice codes repeat: each looked up once.
                            let mut codes: Memo<ValueKey, u32> = Memo::new(12);
                            let rows = (lo..hi)
                                .filter_map(|i| {
                                    let row = this.parse_registration(&b, i, fmt, &mut t, near)?;
                                    near = Some(row.1);
                                    let practice = codes.get_or_try(b.value_key(1, i), || {
                                        known.get(b.get(1, i).unwrap_or_default())
                                    });
                                    Some((row, practice))
                                })
                                .collect();
                            (rows, t)
                        })
                        .collect();
                    for (rows, t) in parsed {
                        tally.merge(t);
                        for ((i, patient, start, end), practice) in rows {
                            let practice = practice.unwrap_or_else(|| {
                                practices.index_or_add(b.get(1, i).unwrap_or_default())
                            });
                            regs.push(Registration {
                                patient,
                                period: Period {
                                    start,
                                    end: end.into(),
                                    practice,
                                },
                            });
                            tally.used();
                        }
                    }
                    Ok::<(), Infallible>(())
                },
            )
            .map_err(ScanError::into_source)?;
        tally.merge(structural);
        regs.par_sort_unstable();
        let mut offsets = vec![0u32; self.ids.len() + 1];
        for r in &regs {
            offsets[r.patient as usize + 1] += 1;
        }
        for p in 0..self.ids.len() {
            offsets[p + 1] += offsets[p];
        }
        // Reuses the allocation (a period is smaller than a registration),
        // then gives back the difference.
        self.registrations = regs.into_iter().map(|r| r.period).collect();
        self.registrations.shrink_to_fit();
        self.offsets = offsets;
        Ok(())
    }

    /// One registration row: (row, patient, start, end), or `None` after
    /// counting it as rejected. The patient is searched for from `near`.
    fn parse_registration(
        &self,
        b: &Batch,
        i: usize,
        fmt: &DateFormat,
        t: &mut Tally,
        near: Option<u32>,
    ) -> Option<RegistrationRow> {
        let table = TableKind::Registrations;
        let loc = || b.location(i);
        let id = id_of(b, i, table, t)?;
        let Some(patient) = self.ids.get_near(id, near) else {
            t.rejected(
                table,
                loc(),
                "patient_id",
                Some(id),
                RejectReason::UnknownPatient,
            );
            return None;
        };
        if b.get(1, i).is_none() {
            t.rejected(
                table,
                loc(),
                "practice_code",
                None,
                RejectReason::MissingValue,
            );
            return None;
        }
        let start_raw = b.get(2, i);
        let Some(start) = start_raw.and_then(|s| b.date_format(2, fmt).parse(s)) else {
            let reason = if start_raw.is_none() {
                RejectReason::MissingValue
            } else {
                RejectReason::InvalidDate
            };
            t.rejected(table, loc(), "start_date", start_raw, reason);
            return None;
        };
        let end = match b.get(3, i) {
            None => None,
            Some(raw) => match b.date_format(3, fmt).parse(raw) {
                Some(d) => Some(d),
                None => {
                    t.rejected(
                        table,
                        loc(),
                        "end_date",
                        Some(raw),
                        RejectReason::InvalidDate,
                    );
                    return None;
                }
            },
        };
        if end.is_some_and(|e| e < start) {
            t.rejected(
                table,
                loc(),
                "end_date",
                b.get(3, i),
                RejectReason::EndBeforeStart,
            );
            return None;
        }
        Some((i, patient, start, end))
    }
}

/// Age bands for review lists and standardisation; the last is "unknown".
pub const AGE_BANDS: [&str; 10] = [
    "0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85+", "unknown",
];

/// The index in [`AGE_BANDS`] of the band for an unknown age: no date of
/// birth, or one after the date.
pub(crate) const UNKNOWN_AGE_BAND: usize = AGE_BANDS.len() - 1;

/// The index into [`AGE_BANDS`] of someone born on `dob` at `t`.
pub fn age_band_index(dob: Option<Date>, t: Date) -> usize {
    let Some(dob) = dob else {
        return UNKNOWN_AGE_BAND;
    };
    match dob.years_until(t) {
        i32::MIN..=-1 => UNKNOWN_AGE_BAND,
        0..=17 => 0,
        18..=24 => 1,
        25..=34 => 2,
        35..=44 => 3,
        45..=54 => 4,
        55..=64 => 5,
        65..=74 => 6,
        75..=84 => 7,
        _ => 8,
    }
}

/// The age bands at one date, for many people: each band's lower age as
/// the latest date of birth that reaches it. Someone is at least `k` on `t`
/// when born on or before `t` minus `k` years (29 February counting as
/// 28 February in other years, as [`Date::years_until`] does): a few
/// comparisons a person instead of two calendar conversions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AgeBandsAt {
    t: Date,
    /// Latest birth date of ages 18, 25, 35, ..., 85 on `t`.
    born_by: [Date; 8],
}

impl AgeBandsAt {
    /// The bands at `t`.
    pub fn new(t: Date) -> AgeBandsAt {
        AgeBandsAt {
            t,
            born_by: [18, 25, 35, 45, 55, 65, 75, 85].map(|k| t.add_months(-12 * k)),
        }
    }

    /// The index into [`AGE_BANDS`] of someone born on `dob`; the same as
    /// [`age_band_index`] at this date.
    pub fn index(&self, dob: Option<Date>) -> usize {
        match dob {
            Some(dob) if dob <= self.t => self.born_by.iter().filter(|&&b| dob <= b).count(),
            _ => UNKNOWN_AGE_BAND,
        }
    }
}

/// The age band of someone born on `dob` at `t`.
pub fn age_band(dob: Option<Date>, t: Date) -> &'static str {
    AGE_BANDS[age_band_index(dob, t)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn pop_with(regs: Vec<Period>, dod: Option<Date>) -> Population {
        let mut p = Population {
            ids: PatientIds::default(),
            date_of_birth: vec![MaybeDate::NONE],
            date_of_death: vec![dod.into()],
            sex: vec![Sex::Unknown],
            offsets: vec![0, regs.len() as u32],
            registrations: regs,
        };
        p.ids.insert("a");
        p
    }

    fn reg(start: &str, end: Option<&str>, practice: u32) -> Period {
        Period {
            start: d(start),
            end: end.map(d).into(),
            practice,
        }
    }

    #[test]
    fn registration_spans_t_with_an_exclusive_end() {
        let p = pop_with(vec![reg("2020-01-01", Some("2024-03-31"), 0)], None);
        assert_eq!(p.practice_at(0, d("2024-03-30")), Some(0));
        assert_eq!(p.practice_at(0, d("2024-03-31")), None);
        assert_eq!(p.practice_at(0, d("2019-12-31")), None);
        assert_eq!(p.practice_at(0, d("2020-01-01")), Some(0));
    }

    #[test]
    fn the_latest_start_wins_when_registrations_overlap() {
        let mut regs = vec![reg("2020-01-01", None, 0), reg("2023-06-01", None, 1)];
        regs.sort();
        let p = pop_with(regs, None);
        assert_eq!(p.practice_at(0, d("2024-03-31")), Some(1));
        assert_eq!(p.practice_at(0, d("2023-05-31")), Some(0));
    }

    #[test]
    fn registered_since_follows_unbroken_moves_but_not_gaps() {
        // Moved practice on 2022-06-01 with no gap: registered since 2019.
        let mut regs = vec![
            reg("2019-01-01", Some("2022-06-01"), 0),
            reg("2022-06-01", None, 1),
        ];
        regs.sort();
        let p = pop_with(regs, None);
        assert_eq!(
            p.registered_since(0, d("2024-03-31")),
            Some(d("2019-01-01"))
        );
        // A day's gap breaks it: history before the gap is another spell.
        let mut regs = vec![
            reg("2019-01-01", Some("2022-05-31"), 0),
            reg("2022-06-01", None, 1),
        ];
        regs.sort();
        let p = pop_with(regs, None);
        assert_eq!(
            p.registered_since(0, d("2024-03-31")),
            Some(d("2022-06-01"))
        );
        assert_eq!(p.registered_since(0, d("2022-05-31")), None);
    }

    #[test]
    fn the_dead_are_not_in_the_population() {
        let p = pop_with(vec![reg("2020-01-01", None, 0)], Some(d("2024-01-01")));
        assert_eq!(p.practice_at(0, d("2023-12-31")), Some(0));
        assert_eq!(p.practice_at(0, d("2024-01-01")), None);
    }

    #[test]
    fn sex_accepts_letters_and_words() {
        assert_eq!(Sex::parse("F"), Some(Sex::Female));
        assert_eq!(Sex::parse("Male"), Some(Sex::Male));
        assert_eq!(Sex::parse("x"), None);
        assert_eq!(Sex::parse(" u "), Some(Sex::Unknown));
        assert_eq!(Sex::parse("INTERSEX"), Some(Sex::Intersex));
        assert_eq!((Sex::parse("fe"), Sex::parse("")), (None, None));
        assert_eq!(
            (Sex::parse("males"), Sex::parse("mAlE")),
            (None, Some(Sex::Male))
        );
        assert_eq!(
            (Sex::parse("x "), Sex::parse("Unknown")),
            (None, Some(Sex::Unknown))
        );
    }

    /// Patients read from a CSV file: (ids, dates of birth, sexes) and the
    /// rejections' reasons.
    fn load(csv: &str) -> (Vec<String>, Vec<Option<Date>>, Vec<Sex>, Vec<RejectReason>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("patients.csv");
        std::fs::write(&path, csv).unwrap();
        let mapping = crate::ingest::mapping::TableMapping::default();
        let source = TableSource::file(TableKind::Patients, &path, mapping);
        let mut tally = Tally::default();
        let pop = Population::load_patients(&source, 7, &mut tally).unwrap();
        assert!(tally.account.balances());
        let ids = (0..pop.len() as u32)
            .map(|p| pop.ids.id(p).into_owned())
            .collect();
        let dobs = pop.date_of_birth.iter().map(|d| d.get()).collect();
        let reasons = tally.rejections.iter().map(|r| r.reason).collect();
        (ids, dobs, pop.sex.clone(), reasons)
    }

    #[test]
    fn rows_without_an_id_or_repeating_one_leave_the_others_aligned() {
        let header = "patient_id,date_of_birth,sex,date_of_death\n";
        // Numbers in order (numbered a chunk at once), numbers with a
        // repeat and text ids (one by one): the same patients either way.
        for ids in [
            ["1", "2", "3", "4"],
            ["1", "2", "1", "3"],
            ["p1", "p2", "p1", "p3"],
        ] {
            let csv = format!(
                "{header}{},1980-01-01,F,\n,1981-01-01,M,\n{},1982-01-01,M,\n{},1983-01-01,F,\n{},1984-01-01,U,\n",
                ids[0], ids[1], ids[2], ids[3]
            );
            let (got, dobs, sexes, reasons) = load(&csv);
            let repeat = ids[2] == ids[0];
            let years: Vec<i32> = dobs.iter().map(|d| d.unwrap().ymd().0).collect();
            if repeat {
                assert_eq!(got, [ids[0], ids[1], ids[3]]);
                assert_eq!(years, [1980, 1982, 1984]);
                assert_eq!(sexes, [Sex::Female, Sex::Male, Sex::Unknown]);
                assert_eq!(
                    reasons,
                    [RejectReason::EmptyPatientId, RejectReason::DuplicatePatient]
                );
            } else {
                assert_eq!(got, ids);
                assert_eq!(years, [1980, 1982, 1983, 1984]);
                assert_eq!(sexes, [Sex::Female, Sex::Male, Sex::Female, Sex::Unknown]);
                assert_eq!(reasons, [RejectReason::EmptyPatientId]);
            }
        }
    }

    proptest::proptest! {
        /// Bands prepared for a date agree with the age computed per person,
        /// birthdays on 29 February and dates of birth after `t` included.
        #[test]
        fn prepared_bands_agree_with_ages(
            t in 0i32..40_000,
            back in -400i32..40_000,
            leap_day in proptest::bool::ANY,
        ) {
            let t = if leap_day { d("2024-02-29").add_days(t % 3 - 1) } else { Date(t) };
            let dob = Date(t.0 - back);
            let bands = AgeBandsAt::new(t);
            proptest::prop_assert_eq!(bands.index(Some(dob)), age_band_index(Some(dob), t));
            proptest::prop_assert_eq!(bands.index(None), UNKNOWN_AGE_BAND);
            // Exactly on a band's birthday, and the day before it.
            for k in [18, 25, 85] {
                let born = t.add_months(-12 * k);
                for dob in [born, born.add_days(1), born.add_days(-1)] {
                    proptest::prop_assert_eq!(bands.index(Some(dob)), age_band_index(Some(dob), t));
                }
            }
        }
    }

    #[test]
    fn age_bands() {
        assert_eq!(age_band(Some(d("2006-04-01")), d("2024-03-31")), "0-17");
        assert_eq!(age_band(Some(d("2006-03-31")), d("2024-03-31")), "18-24");
        assert_eq!(age_band(None, d("2024-03-31")), "unknown");
    }
}
