//! One synthetic patient: demographics, registrations, clinical events and
//! medication issues, written straight to the table writers.

use polars::prelude::PolarsResult;
use rand::Rng;

use super::codes::{pick, CodePools, DrugCode, NOISE_BNF, NOISE_SNOMED};
use super::{SynthConfig, SynthPractice, Tables};
use crate::date::Date;

/// What every patient draws on.
pub struct Context<'a> {
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
}

impl Writer<'_, '_> {
    fn event(&mut self, date: Date, code: &str) -> PolarsResult<()> {
        if date > self.end {
            return Ok(());
        }
        self.t.counts.clinical_events += 1;
        self.t.events.row(&[self.id, &date.to_string(), code, ""])
    }

    fn issue(&mut self, date: Date, drug: &DrugCode, with_bnf: bool) -> PolarsResult<()> {
        if date > self.end {
            return Ok(());
        }
        self.t.counts.medications += 1;
        let bnf = if with_bnf || drug.dmd.is_none() {
            drug.bnf.as_deref().unwrap_or("")
        } else {
            ""
        };
        self.t.medications.row(&[
            self.id,
            &date.to_string(),
            drug.dmd.as_deref().unwrap_or(""),
            bnf,
            "28",
            "",
        ])
    }

    /// Repeat issues about every 28 days from `start` until `stop`.
    fn course(
        &mut self,
        rng: &mut impl Rng,
        drug: &DrugCode,
        start: Date,
        stop: Date,
    ) -> PolarsResult<()> {
        let with_bnf = rng.gen_bool(0.1);
        let mut d = start;
        while d <= stop {
            self.issue(d, drug, with_bnf)?;
            d = d.add_days(28 + rng.gen_range(-3..=3));
        }
        Ok(())
    }
}

/// Generates and writes one patient.
pub fn write_patient(
    ctx: &Context<'_>,
    rng: &mut impl Rng,
    n: u64,
    t: &mut Tables,
) -> PolarsResult<()> {
    let cfg = ctx.cfg;
    let end = cfg.extract_date;
    let history = end.add_months(-12 * cfg.history_years as i32);
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

    // Registrations: most stay put; some moved practice; some left.
    let u: f64 = rng.gen();
    let practice = ctx
        .cumulative
        .iter()
        .position(|c| u <= *c)
        .unwrap_or(ctx.practices.len() - 1);
    let p = &ctx.practices[practice];
    let first_start = date_between(rng, dob.max(end.add_months(-12 * 30)), end.add_months(-1));
    let roll: f64 = rng.gen();
    let mut regs = Vec::new();
    if roll < 0.03 && ctx.practices.len() > 1 {
        let moved = date_between(rng, first_start.add_days(30), end);
        let other =
            (practice + 1 + rng.gen_range(0..ctx.practices.len() - 1)) % ctx.practices.len();
        regs.push((&ctx.practices[other].code, first_start, Some(moved)));
        regs.push((&p.code, moved, None));
    } else if roll < 0.07 {
        regs.push((
            &p.code,
            first_start,
            Some(date_between(rng, first_start.add_days(1), end)),
        ));
    } else {
        regs.push((&p.code, first_start, None));
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

    let adult = age_years >= 18;
    let ld = rng.gen_bool(cfg.ld_prevalence.clamp(0.0, 1.0));
    let autism_p = if ld { 0.3 } else { cfg.autism_prevalence };
    let autism = rng.gen_bool(autism_p.clamp(0.0, 1.0));
    let cohort = ld || autism;
    let pools = ctx.pools;
    let mut w = Writer { t, id: &id, end };
    let after_birth = |rng: &mut dyn rand::RngCore, years: i32| {
        date_between(rng, dob.add_months(12 * years).max(Date(-25567)), end)
    };

    // Noise: unrelated events and drugs for everyone.
    for _ in 0..rng.gen_range(0..6) {
        let d = after_birth(rng, 0).max(history);
        w.event(d, NOISE_SNOMED[rng.gen_range(0..NOISE_SNOMED.len())])?;
    }
    if rng.gen_bool(0.3) {
        let drug = DrugCode {
            dmd: None,
            bnf: Some(NOISE_BNF[rng.gen_range(0..NOISE_BNF.len())].to_string()),
        };
        let start = date_between(rng, history, end);
        let stop = start.add_months(rng.gen_range(1..24));
        w.course(rng, &drug, start, stop)?;
    }
    if rng.gen_bool(0.01) {
        if let Some(d) = pick(rng, &pools.prochlorperazine) {
            w.issue(date_between(rng, history, end), d, false)?;
        }
    }

    // Diagnoses.
    if ld {
        w.event(after_birth(rng, 2), pick(rng, &pools.ld).map_or("", |s| s))?;
    }
    if autism {
        w.event(
            after_birth(rng, 2),
            pick(rng, &pools.autism).map_or("", |s| s),
        )?;
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
    for (has, pool) in [
        (depression, &pools.depression),
        (anxiety, &pools.anxiety),
        (epilepsy, &pools.epilepsy),
    ] {
        if has {
            w.event(after_birth(rng, 3), pick(rng, pool).map_or("", |s| s))?;
        }
    }

    // Prescribing: antipsychotics, antidepressants, hypnotics, melatonin, antiepileptics.
    let ap_base = if ld {
        0.155
    } else if autism {
        0.08
    } else {
        0.008
    };
    let on_ap = rng.gen_bool((ap_base * p.antipsychotic_mult).min(0.9)) && age_years >= 10;
    if on_ap {
        let smi_p = if cohort { p.smi_recording } else { 0.6 };
        if rng.gen_bool(smi_p) {
            w.event(
                after_birth(rng, 14),
                pick(rng, &pools.smi).map_or("", |s| s),
            )?;
        }
        if rng.gen_bool(0.01) {
            w.event(
                date_between(rng, end.add_months(-12), end),
                pick(rng, &pools.palliative).map_or("", |s| s),
            )?;
        }
        let n_drugs = if rng.gen_bool(0.08) { 2 } else { 1 };
        for k in 0..n_drugs {
            let pool = if k == 0 && rng.gen_bool(0.07) {
                &pools.depot
            } else {
                &pools.antipsychotic
            };
            let Some(drug) = pick(rng, pool) else {
                continue;
            };
            let (start, stop) = course_dates(rng, history, end);
            w.course(rng, drug, start, stop)?;
            if cohort {
                // Early review after a new start, at the practice's rate.
                if start > history && rng.gen_bool(p.review_rate) {
                    w.event(
                        start.add_days(rng.gen_range(14..100)),
                        pick(rng, &pools.review).map_or("", |s| s),
                    )?;
                }
                for (i, pool) in pools.monitoring.iter().enumerate() {
                    let mut year = end;
                    while year > history {
                        if rng.gen_bool(p.monitoring_rate - 0.05 * i as f64) {
                            w.event(
                                date_between(rng, year.add_months(-12), year),
                                pick(rng, pool).map_or("", |s| s),
                            )?;
                        }
                        year = year.add_months(-12);
                    }
                }
            }
        }
    }
    // Antidepressants follow a recorded depression or anxiety disorder most
    // of the time; in the cohort, a good share have no recorded reason.
    let ad_p = match (depression || anxiety, cohort, adult) {
        (true, _, _) => 0.6,
        (false, true, _) => 0.1,
        (false, false, true) => 0.06,
        (false, false, false) => 0.005,
    };
    let others = [
        (ad_p, &pools.antidepressant),
        (if ld { 0.05 } else { 0.03 }, &pools.hypnotic),
        (if cohort { 0.08 } else { 0.005 }, &pools.melatonin),
        (
            if epilepsy {
                0.9
            } else if cohort {
                0.06
            } else {
                0.01
            },
            &pools.antiepileptic,
        ),
    ];
    for (prob, pool) in others {
        if rng.gen_bool(prob) {
            if let Some(drug) = pick(rng, pool) {
                let (start, stop) = course_dates(rng, history, end);
                w.course(rng, drug, start, stop)?;
            }
        }
    }

    // Annual medication reviews for cohort patients on any repeat.
    if cohort {
        let mut year = end;
        while year > history {
            if rng.gen_bool(p.review_rate) {
                w.event(
                    date_between(rng, year.add_months(-12), year),
                    pick(rng, &pools.review).map_or("", |s| s),
                )?;
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
