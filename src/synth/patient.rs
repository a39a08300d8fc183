//! One synthetic patient: demographics, registrations, clinical events and
//! medication issues, written straight to the table writers.
//!
//! Besides the common course of care it writes the cases the indicator
//! definitions turn on: tricyclics given for pain with a pain code, seizure
//! rescue benzodiazepines in epilepsy, oral plus depot of one drug, 56-day
//! and 3-monthly issuing, patients who transfer in on an antipsychotic,
//! administrative medication codes that are not reviews, declined blood
//! pressure and end-of-life injections.

use polars::prelude::PolarsResult;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::codes::{pick, CodePools, DrugCode, ADMIN_REVIEW_SNOMED, NOISE_BNF, NOISE_SNOMED};
use super::{poisson, DrugCoding, SynthConfig, SynthPractice, Tables};
use crate::date::Date;
use crate::ingest::partition::fnv1a;
use crate::spec::doses::ProductDose;

/// What every patient draws on.
pub(crate) struct Context<'a> {
    pub cfg: &'a SynthConfig,
    pub pools: &'a CodePools,
    pub practices: &'a [SynthPractice],
    pub cumulative: &'a [f64],
}

fn date_between(rng: &mut (impl Rng + ?Sized), lo: Date, hi: Date) -> Date {
    if hi.0 <= lo.0 {
        return lo;
    }
    Date(rng.gen_range(lo.0..=hi.0))
}

struct Writer<'a, 'b> {
    t: &'a mut Tables,
    id: &'b str,
    end: Date,
    coding: DrugCoding,
}

impl Writer<'_, '_> {
    fn event(&mut self, date: Date, code: &str) -> PolarsResult<()> {
        if date > self.end || code.is_empty() {
            return Ok(());
        }
        self.t.counts.clinical_events += 1;
        self.t.events.row(&[self.id, &date.to_string(), code, ""])
    }

    fn issue(&mut self, date: Date, drug: &DrugCode) -> PolarsResult<()> {
        self.issue_as(date, drug, "28", "")
    }

    /// An issue with its quantity and dosage instruction.
    fn issue_as(
        &mut self,
        date: Date,
        drug: &DrugCode,
        quantity: &str,
        text: &str,
    ) -> PolarsResult<()> {
        if date > self.end {
            return Ok(());
        }
        let (dmd, bnf) = match self.coding {
            DrugCoding::DmdOnly => (drug.dmd.as_deref(), None),
            DrugCoding::Both => (drug.dmd.as_deref(), drug.bnf.as_deref()),
            DrugCoding::BnfOnly => (None, drug.bnf.as_deref()),
        };
        // A drug without the code this coding asks for is written with the other.
        let (dmd, bnf) = match (dmd, bnf) {
            (None, None) => (drug.dmd.as_deref(), drug.bnf.as_deref()),
            pair => pair,
        };
        self.t.counts.medications += 1;
        self.t.medications.row(&[
            self.id,
            &date.to_string(),
            dmd.unwrap_or(""),
            bnf.unwrap_or(""),
            quantity,
            text,
        ])
    }

    /// Repeat issues every `every` days (give or take 3) from `start` to
    /// `stop`, 28 of them each, with no instruction.
    fn course(
        &mut self,
        rng: &mut impl Rng,
        drug: &DrugCode,
        start: Date,
        stop: Date,
        every: i32,
    ) -> PolarsResult<()> {
        self.dosed_course(rng, drug, (start, stop, every), &Dosing::Plain)
    }

    /// As [`Writer::course`] (the same draws of `rng`), with quantities and
    /// instructions from `dosing`; `when` is (start, stop, every).
    fn dosed_course(
        &mut self,
        rng: &mut impl Rng,
        drug: &DrugCode,
        (start, stop, every): (Date, Date, i32),
        dosing: &Dosing,
    ) -> PolarsResult<()> {
        let mut d = start;
        while d <= stop {
            let (quantity, text) = dosing.issue(d, every);
            self.issue_as(d, drug, &quantity, &text)?;
            d = d.add_days(every + rng.gen_range(-3..=3));
        }
        Ok(())
    }
}

/// A course of a medicine no concept uses, in the coding of the extract
/// (one draw either way, so the rest of the extract does not depend on
/// the coding); its rows are counted as unrelated.
fn unrelated_course(
    w: &mut Writer,
    rng: &mut impl Rng,
    cfg: &SynthConfig,
    pools: &CodePools,
    history: Date,
) -> PolarsResult<()> {
    let end = w.end;
    let before = w.t.counts.medications;
    let k = rng.gen::<u32>() as usize;
    let drug = if cfg.coding == DrugCoding::BnfOnly {
        DrugCode {
            dmd: None,
            bnf: Some(NOISE_BNF[k % NOISE_BNF.len()].to_string()),
            ..DrugCode::default()
        }
    } else {
        DrugCode {
            dmd: pools
                .noise_dmd
                .get(k % pools.noise_dmd.len().max(1))
                .cloned(),
            bnf: None,
            ..DrugCode::default()
        }
    };
    let start = date_between(rng, history, end);
    let stop = start.add_months(rng.gen_range(1..24));
    w.course(rng, &drug, start, stop, 28)?;
    w.t.counts.unrelated_medications += w.t.counts.medications - before;
    Ok(())
}

/// Days between repeat issues: mostly 28, some 56 (two months at a time).
fn issue_interval(rng: &mut impl Rng) -> i32 {
    if rng.gen_bool(0.15) {
        56
    } else {
        28
    }
}

/// A patient's demographics and where they are registered.
struct Person {
    id: String,
    age_years: i32,
    dob: Date,
    practice: usize,
    /// The start of their current registration.
    registered: Date,
}

fn write_person(
    ctx: &Context<'_>,
    rng: &mut impl Rng,
    n: u64,
    t: &mut Tables,
) -> PolarsResult<Person> {
    let end = ctx.cfg.extract_date;
    let history = end.add_months(-12 * ctx.cfg.history_years as i32);
    let id = format!("{}", 100_000_000 + n * 7 + (n % 5));
    let age_years = rng.gen_range(0..95);
    let dob = end.add_months(-12 * age_years - rng.gen_range(0..12));
    let sex = match rng.gen_range(0..200) {
        0 => "unknown",
        1..=100 => "female",
        _ => "male",
    };
    let dod = rng
        .gen_bool(0.006 + age_years as f64 / 95.0 * 0.02)
        .then(|| date_between(rng, history, end));
    t.counts.patients += 1;
    t.patients.row(&[
        &id,
        &dob.to_string(),
        sex,
        &dod.map(|d| d.to_string()).unwrap_or_default(),
    ])?;

    // Registrations: most stay put; some moved practice; some left; some
    // joined recently from outside the extract.
    let u: f64 = rng.gen();
    let practice = ctx
        .cumulative
        .iter()
        .position(|c| u <= *c)
        .unwrap_or(ctx.practices.len() - 1);
    let code = &ctx.practices[practice].code;
    let first_start = date_between(rng, dob.max(end.add_months(-12 * 30)), end.add_months(-1));
    let roll: f64 = rng.gen();
    let mut regs = Vec::new();
    let mut registered = first_start;
    if roll < 0.03 && ctx.practices.len() > 1 {
        let moved = date_between(rng, first_start.add_days(30), end);
        let other =
            (practice + 1 + rng.gen_range(0..ctx.practices.len() - 1)) % ctx.practices.len();
        regs.push((&ctx.practices[other].code, first_start, Some(moved)));
        regs.push((code, moved, None));
    } else if roll < 0.07 {
        regs.push((
            code,
            first_start,
            Some(date_between(rng, first_start.add_days(1), end)),
        ));
    } else {
        regs.push((code, first_start, None));
    }
    if let Some((_, start, None)) = regs.last() {
        registered = *start;
    }
    for (code, start, stop) in &regs {
        t.counts.registrations += 1;
        t.registrations.row(&[
            &id,
            code,
            &start.to_string(),
            &stop.map(|d| d.to_string()).unwrap_or_default(),
        ])?;
    }
    Ok(Person {
        id,
        age_years,
        dob,
        practice,
        registered,
    })
}

/// Generates and writes one patient.
pub(crate) fn write_patient(
    ctx: &Context<'_>,
    rng: &mut impl Rng,
    n: u64,
    t: &mut Tables,
) -> PolarsResult<()> {
    let cfg = ctx.cfg;
    let end = cfg.extract_date;
    let history = end.add_months(-12 * cfg.history_years as i32);
    let person = write_person(ctx, rng, n, t)?;
    let (dob, age_years) = (person.dob, person.age_years);
    let p = &ctx.practices[person.practice];

    let adult = age_years >= 18;
    let ld = rng.gen_bool(cfg.ld_prevalence.clamp(0.0, 1.0));
    let autism_p = if ld { 0.3 } else { cfg.autism_prevalence };
    let autism = rng.gen_bool(autism_p.clamp(0.0, 1.0));
    let cohort = ld || autism;
    let pools = ctx.pools;
    let mut w = Writer {
        t,
        id: &person.id,
        end,
        coding: cfg.coding,
    };
    let after_birth = |rng: &mut dyn rand::RngCore, years: i32| {
        date_between(rng, dob.add_months(12 * years).max(Date(-25567)), end)
    };
    let any = |pool: &[String], rng: &mut dyn rand::RngCore| -> String {
        pool.get(rng.gen_range(0..pool.len().max(1)))
            .cloned()
            .unwrap_or_default()
    };

    // Noise: unrelated events and medicines for everyone.
    for _ in 0..rng.gen_range(0..6) {
        let d = after_birth(rng, 0).max(history);
        w.event(d, NOISE_SNOMED[rng.gen_range(0..NOISE_SNOMED.len())])?;
    }
    if rng.gen_bool(0.3) {
        unrelated_course(&mut w, rng, cfg, pools, history)?;
    }
    // More unrelated medicines, each with two unrelated events, when asked
    // for: real extracts hold far more of them than psychotropics.
    // Drawn from the patient's own stream, so that the rest of the extract
    // is the same with them or without.
    if cfg.unrelated_courses > 0.0 {
        let xrng = &mut ChaCha8Rng::seed_from_u64(cfg.seed ^ fnv1a(&person.id) ^ UNRELATED);
        for _ in 0..poisson(xrng, cfg.unrelated_courses) {
            unrelated_course(&mut w, xrng, cfg, pools, history)?;
            for _ in 0..2 {
                let d = after_birth(xrng, 0).max(history);
                w.event(d, NOISE_SNOMED[xrng.gen_range(0..NOISE_SNOMED.len())])?;
            }
        }
    }
    if rng.gen_bool(0.01) {
        if let Some(d) = pick(rng, &pools.prochlorperazine) {
            w.issue(date_between(rng, history, end), d)?;
        }
    }

    // Diagnoses.
    if ld {
        w.event(after_birth(rng, 2), &any(&pools.ld, rng))?;
    }
    if autism {
        w.event(after_birth(rng, 2), &any(&pools.autism, rng))?;
    }
    let depression = rng.gen_bool(if cohort { 0.15 } else { 0.12 }) && adult;
    let anxiety = rng.gen_bool(if cohort { 0.12 } else { 0.08 });
    let epilepsy = rng.gen_bool(if ld {
        0.22
    } else if autism {
        0.05
    } else {
        0.01
    });
    let pain_or_sleep = rng.gen_bool(if cohort { 0.08 } else { 0.05 }) && adult;
    for (has, pool) in [
        (depression, &pools.depression),
        (anxiety, &pools.anxiety),
        (epilepsy, &pools.epilepsy),
        (pain_or_sleep, &pools.pain_or_sleep),
    ] {
        if has {
            w.event(after_birth(rng, 3), &any(pool, rng))?;
        }
    }

    write_antipsychotics(ctx, rng, &mut w, &person, cohort, ld, autism)?;

    // Antidepressants follow a recorded depression or anxiety disorder most
    // of the time; in the cohort, a good share have no recorded reason.
    let ad_p = match (depression || anxiety, cohort, adult) {
        (true, _, _) => 0.6,
        (false, true, _) => 0.1,
        (false, false, true) => 0.06,
        (false, false, false) => 0.005,
    };
    // (probability, pool, at drawn doses): antidepressants for depression,
    // anxiety or no recorded reason at drawn doses; the rest 28 per issue.
    let others = [
        (ad_p, &pools.antidepressant, true),
        // Tricyclics and the like for pain or sleep, with the code.
        (
            if pain_or_sleep { 0.5 } else { 0.01 },
            &pools.pain_antidepressant,
            false,
        ),
        (if ld { 0.05 } else { 0.03 }, &pools.hypnotic, false),
        (if cohort { 0.08 } else { 0.005 }, &pools.melatonin, false),
        (
            if epilepsy {
                0.9
            } else if cohort {
                0.05
            } else {
                0.01
            },
            &pools.antiepileptic,
            false,
        ),
        (
            if cohort { 0.03 } else { 0.01 },
            &pools.gabapentinoid,
            false,
        ),
    ];
    // Antidepressant doses draw from a stream of their own, so the rest of
    // the extract is the same as before they were written.
    let mut drng = ChaCha8Rng::seed_from_u64(cfg.seed ^ fnv1a(&person.id) ^ ANTIDEPRESSANT_DOSES);
    for (prob, pool, dosed) in others {
        if rng.gen_bool(prob) {
            if let Some(drug) = pick(rng, pool) {
                let (start, stop) = course_dates(rng, history, end);
                let every = issue_interval(rng);
                if dosed {
                    let dosing = Dosing::draw(&mut drng, &drug.dose, end);
                    w.dosed_course(rng, drug, (start, stop, every), &dosing)?;
                } else {
                    w.course(rng, drug, start, stop, every)?;
                }
            }
        }
    }
    // Seizure rescue: a few issues a year of buccal midazolam or rectal diazepam.
    if epilepsy && rng.gen_bool(0.3) {
        if let Some(drug) = pick(rng, &pools.seizure_rescue) {
            for _ in 0..rng.gen_range(1..6) {
                w.issue(date_between(rng, history, end), drug)?;
            }
        }
    }

    // Medication reviews for cohort patients, at the practice's rate; some
    // years only an administrative code (repeat check, synchronisation).
    if cohort {
        let mut year = end;
        while year > history {
            let when = date_between(rng, year.add_months(-12), year);
            if rng.gen_bool(p.review_rate) {
                w.event(when, &any(&pools.review, rng))?;
            } else if rng.gen_bool(0.4) {
                w.event(
                    when,
                    ADMIN_REVIEW_SNOMED[rng.gen_range(0..ADMIN_REVIEW_SNOMED.len())],
                )?;
            }
            year = year.add_months(-12);
        }
    }
    Ok(())
}

/// Antipsychotics, with their SMI codes, early reviews and monitoring.
/// Calibrated so that about 12% of people with LD are issued one in a
/// month and about 15% in a year (OpenSAFELY's 118 per 1,000 a month;
/// NHS Digital's Health and Care of People with Learning Disabilities,
/// 14.5-15.7% a year).
fn write_antipsychotics(
    ctx: &Context<'_>,
    rng: &mut impl Rng,
    w: &mut Writer<'_, '_>,
    person: &Person,
    cohort: bool,
    ld: bool,
    autism: bool,
) -> PolarsResult<()> {
    let (cfg, pools) = (ctx.cfg, ctx.pools);
    // Doses draw from their own stream, so the rest of the extract is the
    // same as before doses were written.
    let mut drng = ChaCha8Rng::seed_from_u64(cfg.seed ^ fnv1a(&person.id));
    let p = &ctx.practices[person.practice];
    let end = cfg.extract_date;
    let history = end.add_months(-12 * cfg.history_years as i32);
    let any = |pool: &[String], rng: &mut dyn rand::RngCore| -> String {
        pool.get(rng.gen_range(0..pool.len().max(1)))
            .cloned()
            .unwrap_or_default()
    };
    let base = if ld {
        0.25
    } else if autism {
        0.08
    } else {
        0.008
    };
    let on_ap = rng.gen_bool((base * p.antipsychotic_mult).min(0.9)) && person.age_years >= 10;
    if !on_ap {
        // End-of-life anticipatory injections for some older patients (a
        // few per cent a year die, more with a learning disability).
        if cohort && person.age_years >= 60 && rng.gen::<f64>() < 0.05 {
            let d = date_between(rng, end.add_months(-6), end);
            w.event(d.add_days(-10), &any(&pools.palliative, rng))?;
            if let Some(drug) = pick(rng, &pools.end_of_life) {
                w.issue(d, drug)?;
            }
        }
        return Ok(());
    }
    let smi_p = if cohort { p.smi_recording } else { 0.6 };
    if rng.gen_bool(smi_p) {
        let d = date_between(rng, person.dob.add_months(12 * 14), end);
        w.event(d, &any(&pools.smi, rng))?;
    }
    if rng.gen_bool(0.01) {
        w.event(
            date_between(rng, end.add_months(-12), end),
            &any(&pools.palliative, rng),
        )?;
    }
    // Transferred in on the drug: registered recently, first issue here
    // within a month of registering.
    let transfer_in = person.registered > end.add_months(-24) && rng.gen_bool(0.5);
    let n_drugs = if rng.gen_bool(0.08) { 2 } else { 1 };
    for k in 0..n_drugs {
        let (mut start, mut stop) = course_dates(rng, history, end);
        if rng.gen_bool(0.3) {
            // A short course (one to five months), any time in the history:
            // why a year's prevalence exceeds a month's.
            start = date_between(rng, history, end);
            stop = start.add_months(rng.gen_range(1..6));
        }
        if transfer_in {
            start = person.registered.add_days(rng.gen_range(0..30));
        }
        if k == 0 && rng.gen_bool(0.07) {
            // A depot, 4-weekly or 3-monthly; for some, with oral of the same drug.
            let Some((depot, oral)) = pick(rng, &pools.depot_with_oral) else {
                continue;
            };
            let every = if rng.gen_bool(0.3) { 84 } else { 28 };
            w.dosed_course(rng, depot, (start, stop, every), &Dosing::Depot)?;
            if rng.gen_bool(0.4) {
                let dosing = Dosing::draw(&mut drng, &oral.dose, end);
                w.dosed_course(rng, oral, (start, stop, 28), &dosing)?;
            }
        } else if let Some(drug) = pick(rng, &pools.antipsychotic) {
            let every = issue_interval(rng);
            let dosing = Dosing::draw(&mut drng, &drug.dose, end);
            w.dosed_course(rng, drug, (start, stop, every), &dosing)?;
        }
        if !cohort {
            continue;
        }
        // Early review after a new start, at the practice's rate.
        if start > history && rng.gen_bool(p.review_rate) {
            w.event(
                start.add_days(rng.gen_range(14..100)),
                &any(&pools.review, rng),
            )?;
        }
        write_monitoring(rng, w, pools, p, history, end)?;
    }
    Ok(())
}

/// Yearly physical-health checks at the practice's rate; blood pressure is
/// sometimes declined.
fn write_monitoring(
    rng: &mut impl Rng,
    w: &mut Writer<'_, '_>,
    pools: &CodePools,
    p: &SynthPractice,
    history: Date,
    end: Date,
) -> PolarsResult<()> {
    for (i, pool) in pools.monitoring.iter().enumerate() {
        let mut year = end;
        while year > history {
            let when = date_between(rng, year.add_months(-12), year);
            if rng.gen_bool(p.monitoring_rate - 0.05 * i as f64) {
                w.event(when, &pool[rng.gen_range(0..pool.len())])?;
            } else if i == 1 && rng.gen_bool(0.2) && !pools.bp_declined.is_empty() {
                w.event(when, &pools.bp_declined[0])?;
            }
            year = year.add_months(-12);
        }
    }
    Ok(())
}

/// A course: most long-running from before the history window, some new,
/// some stopped.
fn course_dates(rng: &mut impl Rng, history: Date, end: Date) -> (Date, Date) {
    let start = if rng.gen_bool(0.6) {
        history.add_days(rng.gen_range(0..28))
    } else {
        date_between(rng, history, end)
    };
    let stop = if rng.gen_bool(0.2) {
        date_between(rng, start, end)
    } else {
        end
    };
    (start, stop)
}

/// Seeds the antidepressant dose stream apart from the antipsychotic one.
const ANTIDEPRESSANT_DOSES: u64 = 0xad;

/// Seeds the stream of extra unrelated courses apart from the others.
const UNRELATED: u64 = 0x0e1a;

/// How one course of an antipsychotic or antidepressant is dosed: units (tablets, or ml of a
/// liquid) a day, a reduction part way, and how the GP writes it.
pub(crate) enum Dosing {
    /// A medicine whose dose the audit does not read: 28 per issue, no
    /// instruction.
    Plain,
    /// A depot: one injection per issue, no instruction.
    Depot,
    /// An oral drug at a drawn dose.
    Oral(OralDosing),
}

/// An oral course's dose.
pub(crate) struct OralDosing {
    /// Units (tablets, or ml of a liquid) a day.
    per_day: f64,
    /// From this date, this many units a day (a dose reduction).
    reduced: Option<(Date, f64)>,
    /// Whether the issue carries a clear instruction ("2 daily"), an
    /// unclear one ("as directed") or none.
    text: TextStyle,
    liquid: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum TextStyle {
    Clear,
    AsDirected,
    None,
}

impl Dosing {
    /// A dose where real ones sit: most between 15% and 75% of the BNF
    /// maximum, one in ten at 70-90%, 2% above (high-dose therapy is a
    /// minority in the POMH-UK audits); about one course in eight reduced
    /// by a third to a half in the 18 months to `end`. An antidepressant,
    /// with no BNF maximum in the spec, takes the same percentages of the
    /// equivalent of 80 mg of fluoxetine (sertraline 50 mg is about 25%).
    fn draw(rng: &mut impl Rng, dose: &ProductDose, end: Date) -> Dosing {
        let u: f64 = rng.gen();
        let percent = if u < 0.02 {
            rng.gen_range(110.0..160.0)
        } else if u < 0.12 {
            rng.gen_range(70.0..90.0)
        } else {
            rng.gen_range(15.0..75.0)
        };
        let units = match (dose.max, dose.fluoxetine_40mg, dose.mg_per_unit) {
            (Some(max), _, Some(mg)) => percent / 100.0 * max.mg_per_day / mg,
            (None, Some(f40), Some(mg)) => percent / 100.0 * 2.0 * f40 / mg,
            _ => 1.0,
        };
        let per_day = (units * 2.0).round().max(1.0) / 2.0;
        let reduced = rng.gen_bool(0.12).then(|| {
            let when = end.add_days(-rng.gen_range(0..548));
            let after = (per_day * rng.gen_range(0.5..0.67) * 2.0).round().max(1.0) / 2.0;
            (when, after)
        });
        let text = match rng.gen_range(0..20) {
            0..=10 => TextStyle::Clear,
            11..=12 => TextStyle::AsDirected,
            _ => TextStyle::None,
        };
        Dosing::Oral(OralDosing {
            per_day,
            reduced,
            text,
            liquid: dose.liquid,
        })
    }

    /// The quantity and instruction of an issue on `d` for `every` days.
    fn issue(&self, d: Date, every: i32) -> (String, String) {
        let oral = match self {
            Dosing::Plain => return ("28".into(), String::new()),
            Dosing::Depot => return ("1".into(), String::new()),
            Dosing::Oral(oral) => oral,
        };
        let per_day = match oral.reduced {
            Some((from, after)) if d >= from => after,
            _ => oral.per_day,
        };
        let quantity = (per_day * f64::from(every)).ceil();
        let amount = if per_day.fract() == 0.0 {
            format!("{per_day:.0}")
        } else {
            format!("{per_day}")
        };
        let text = match (oral.text, oral.liquid) {
            (TextStyle::Clear, true) => format!("{amount}ml daily"),
            (TextStyle::Clear, false) if per_day >= 2.0 && per_day % 2.0 == 0.0 => {
                format!("{:.0} twice a day", per_day / 2.0)
            }
            (TextStyle::Clear, false) => format!("{amount} daily"),
            (TextStyle::AsDirected, _) => "as directed".into(),
            (TextStyle::None, _) => String::new(),
        };
        (format!("{quantity:.0}"), text)
    }
}
