//! A patient's daily dose of each drug they hold at a date, estimated from
//! their issues, and the total on the two scales of the spec's dose tables:
//! percent of the BNF maximum (RCPsych CR190) and chlorpromazine
//! equivalents (Leucht et al. 2016).
//!
//! The rules (docs/indicators.md, "Daily dose"):
//! - A drug is an active ingredient in one form (oral, depot): two
//!   strengths of one drug issued together add up; after a switch of
//!   strength only the latest supply counts.
//! - It is held at D when issued in the 3 months to D. Its dose is that of
//!   its latest supply: the issues of the latest issue date L in those 3
//!   months and of the 6 days before it (two strengths are often issued a
//!   day or two apart).
//! - An issue's daily dose is the daily amount its dosage instruction states
//!   clearly (tablets or ml a day, times the strength); else strength x
//!   quantity / interval, where the interval is the days from the latest
//!   issue date before that supply (in the 3 months) to L, limited to 7-91
//!   days, or 28 days when there is none. A depot whose BNF maximum is
//!   over a longer interval (3- and 6-monthly injections) uses that interval
//!   instead of 28 days, and as the upper limit when it is over 91 days.
//! - A dose that cannot be computed (no readable strength, no quantity, no
//!   entry in a scale's table) is unknown, never guessed: a total with any
//!   unknown part is unknown. So is one above 500% of the drug's BNF
//!   maximum: a recording error, not a dose.

use crate::classify::classifier::{ConceptMask, DrugTable};
use crate::classify::dose_text::{DailyAmount, StatedUnit};
use crate::classify::form::Form;
use crate::date::Date;
use crate::spec::doses::{DoseScale, DoseScales, ProductDose, HELD_MONTHS};

use super::facts::MedItem;

/// The interval assumed when a drug has one issue date in the look-back.
const SINGLE_ISSUE_DAYS: f64 = 28.0;
/// The shortest and longest interval between issues counted.
const INTERVAL_DAYS: (f64, f64) = (7.0, 91.0);
/// A drug's dose above this percentage of its BNF maximum is taken as a
/// recording error (a quantity in another unit: 28 vials for 28 days), not
/// a dose: no one is prescribed five times the maximum.
pub(crate) const IMPLAUSIBLE_PERCENT: f64 = 500.0;

/// An amount read from the extract, in thousandths; `u32::MAX` when
/// missing or unreadable. Kept as an integer so that issues stay `Ord`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Thousandths(u32);

impl Thousandths {
    /// Missing or unreadable.
    pub const UNKNOWN: Thousandths = Thousandths(u32::MAX);

    /// A positive amount, if it fits.
    pub(crate) fn new(v: f64) -> Thousandths {
        let t = (v * 1000.0).round();
        if v > 0.0 && t >= 1.0 && t < u32::MAX as f64 {
            Thousandths(t as u32)
        } else {
            Thousandths::UNKNOWN
        }
    }

    /// An issue's quantity column.
    pub(crate) fn quantity(text: Option<&str>) -> Thousandths {
        text.and_then(|q| q.trim().parse::<f64>().ok())
            .map_or(Thousandths::UNKNOWN, Thousandths::new)
    }

    fn get(self) -> Option<f64> {
        (self != Thousandths::UNKNOWN).then(|| self.0 as f64 / 1000.0)
    }
}

/// The daily amount an issue's dosage instruction states, if clear: units
/// or millilitres a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatedDaily {
    amount: Thousandths,
    ml: bool,
}

impl StatedDaily {
    /// No clear daily amount.
    pub const NONE: StatedDaily = StatedDaily {
        amount: Thousandths::UNKNOWN,
        ml: false,
    };

    /// From a parsed instruction.
    pub(crate) fn new(a: Option<DailyAmount>) -> StatedDaily {
        match a {
            Some(a) => StatedDaily {
                amount: Thousandths::new(a.per_day),
                ml: a.unit == StatedUnit::Ml,
            },
            None => StatedDaily::NONE,
        }
    }
}

/// Each drug's [`ProductDose`], by drug id.
#[derive(Clone, Debug, Default)]
pub(crate) struct DoseProfiles(Vec<ProductDose>);

impl DoseProfiles {
    /// The profile of every drug of the run's table.
    pub(crate) fn new(drugs: &DrugTable, scales: &DoseScales) -> DoseProfiles {
        DoseProfiles(
            drugs
                .drugs
                .iter()
                .map(|d| ProductDose::of(d, scales))
                .collect(),
        )
    }
}

/// One drug held at D, with its dose.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HeldDose {
    /// The active ingredient (or the product's name when it has none).
    pub drug: String,
    /// Its form.
    pub form: Form,
    /// The latest issue date in the look-back.
    pub last_issued: Date,
    /// Milligrams a day.
    pub mg_per_day: Option<f64>,
    /// Percent of the BNF maximum.
    pub percent_max: Option<f64>,
    /// Chlorpromazine-equivalent milligrams a day.
    pub cpz_mg: Option<f64>,
    /// Fluoxetine-equivalent milligrams a day.
    pub fluoxetine_mg: Option<f64>,
    /// Why the daily dose is unknown, when it is.
    pub unknown: Option<UnknownDose>,
}

/// Why a drug's daily dose is unknown: counted in `summary.json` and said
/// on the review list, so a pharmacist knows what to look up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum UnknownDose {
    /// No strength could be read from a product's dm+d name.
    NoStrength,
    /// An issue's quantity is missing or unreadable, and its dosage
    /// instruction states no clear daily amount.
    NoQuantity,
    /// The estimate was above [`IMPLAUSIBLE_PERCENT`] of the BNF maximum:
    /// a recording error, not a dose.
    Implausible,
}

impl UnknownDose {
    /// What the review list says.
    fn describe(self) -> String {
        match self {
            UnknownDose::NoStrength => "dose unknown (no strength in the product name)".into(),
            UnknownDose::NoQuantity => "dose unknown (no quantity or clear daily dose)".into(),
            UnknownDose::Implausible => format!(
                "dose implausible (over {IMPLAUSIBLE_PERCENT}% of BNF max: check the quantities)"
            ),
        }
    }
}

/// The drugs of a concept a patient holds at a date.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct DosesAt {
    /// Each drug held, by name.
    pub held: Vec<HeldDose>,
}

impl DosesAt {
    /// The total on a scale: `None` when nothing is held or any drug's dose
    /// on that scale is unknown.
    pub(crate) fn total(&self, scale: DoseScale) -> Option<f64> {
        if self.held.is_empty() {
            return None;
        }
        self.held
            .iter()
            .map(|h| match scale {
                DoseScale::BnfMaximum => h.percent_max,
                DoseScale::Chlorpromazine => h.cpz_mg,
                DoseScale::Fluoxetine => h.fluoxetine_mg,
            })
            .sum()
    }
}

/// What the review list shows of a patient's doses of one concept: each
/// drug held at T, and the totals at T and 12 months before.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct DoseSummary {
    /// Each drug held at T with its daily dose, % of the BNF maximum and
    /// chlorpromazine equivalent ("dose unknown" where it is).
    pub doses: String,
    /// Total % of the BNF maximum at T (empty when unknown).
    pub percent_max: String,
    /// Total chlorpromazine-equivalent mg a day at T.
    pub cpz_mg: String,
    /// Total % of the BNF maximum 12 months before T.
    pub percent_max_before: String,
    /// Total chlorpromazine-equivalent mg a day 12 months before T.
    pub cpz_mg_before: String,
}

/// How far before T the review list's earlier dose is.
pub(crate) const EARLIER_MONTHS: i32 = 12;

impl DoseSummary {
    /// The summary of a concept's drugs held at T (`now`) and
    /// [`EARLIER_MONTHS`] before (`before`).
    pub(crate) fn of(now: &DosesAt, before: &DosesAt) -> DoseSummary {
        let one = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
        let doses = now
            .held
            .iter()
            .map(|h| {
                let form = match h.form {
                    Form::Depot => "depot",
                    Form::Injection => "injection",
                    _ => "oral",
                };
                match (h.mg_per_day, h.unknown) {
                    (_, Some(why)) => format!("{} ({form}): {}", h.drug, why.describe()),
                    (Some(mg), None) => format!(
                        "{} ({form}): {mg:.1} mg/day, {} of BNF max, {} mg chlorpromazine",
                        h.drug,
                        h.percent_max
                            .map_or("unknown".into(), |p| format!("{p:.1}%")),
                        h.cpz_mg.map_or("unknown".into(), |c| format!("{c:.1}")),
                    ),
                    (None, None) => format!("{} ({form}): dose unknown", h.drug),
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        DoseSummary {
            doses,
            percent_max: one(now.total(DoseScale::BnfMaximum)),
            cpz_mg: one(now.total(DoseScale::Chlorpromazine)),
            percent_max_before: one(before.total(DoseScale::BnfMaximum)),
            cpz_mg_before: one(before.total(DoseScale::Chlorpromazine)),
        }
    }
}

/// Per issue: milligrams, percent of maximum, chlorpromazine and fluoxetine
/// mg a day.
type IssueDose = [Option<f64>; 4];

/// The doses of the drugs of `concept` that `meds` (one patient's issues,
/// sorted by date) hold at `d`.
pub(crate) fn doses_at(
    meds: &[MedItem],
    drugs: &DrugTable,
    profiles: &DoseProfiles,
    concept: u8,
    d: Date,
) -> DosesAt {
    let from = d.add_months(-(HELD_MONTHS as i32));
    let in_concept = |m: &&MedItem| {
        m.date > from
            && m.date <= d
            && drugs.drugs[m.drug as usize].mask & (1 as ConceptMask) << concept != 0
    };
    let recent: Vec<&MedItem> = meds.iter().filter(in_concept).collect();
    if recent.is_empty() {
        return DosesAt::default();
    }
    // Drugs (ingredient, or the product's name, and form), by name.
    let key = |m: &MedItem| {
        let info = &drugs.drugs[m.drug as usize];
        (info.ingredient.as_deref().unwrap_or(&info.name), info.form)
    };
    let mut keys: Vec<(&str, Form)> = Vec::new();
    for m in &recent {
        let k = key(m);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.sort_unstable();
    let held = keys
        .into_iter()
        .map(|(drug, form)| {
            let issues: Vec<&MedItem> = recent
                .iter()
                .copied()
                .filter(|m| key(m) == (drug, form))
                .collect();
            held_dose(drug.to_string(), form, &issues, profiles)
        })
        .collect();
    DosesAt { held }
}

/// One drug's dose from its issues in the look-back (sorted by date).
fn held_dose(drug: String, form: Form, issues: &[&MedItem], profiles: &DoseProfiles) -> HeldDose {
    let last = issues
        .iter()
        .map(|m| m.date)
        .max()
        .unwrap_or(Date(i32::MIN));
    // The latest supply: issues less than the shortest interval before the
    // latest (two strengths are often issued a day apart).
    let supply_from = last.add_days(-(INTERVAL_DAYS.0 as i32));
    let before = issues
        .iter()
        .map(|m| m.date)
        .filter(|&x| x <= supply_from)
        .max();
    let on_last: Vec<&MedItem> = issues
        .iter()
        .copied()
        .filter(|m| m.date > supply_from)
        .collect();
    let mut sums: IssueDose = [Some(0.0); 4];
    let mut unknown = None;
    for m in &on_last {
        let p = &profiles.0[m.drug as usize];
        match issue_dose(m, p, form, before.map(|b| (last.0 - b.0) as f64)) {
            Ok(one) => {
                for (s, v) in sums.iter_mut().zip(one) {
                    *s = s.zip(v).map(|(a, b)| a + b);
                }
            }
            Err(why) => {
                sums = [None; 4];
                unknown = Some(unknown.map_or(why, |u: UnknownDose| u.min(why)));
            }
        }
    }
    if sums[1].is_some_and(|p| p > IMPLAUSIBLE_PERCENT) {
        sums = [None; 4];
        unknown = Some(UnknownDose::Implausible);
    }
    HeldDose {
        drug,
        form,
        last_issued: last,
        mg_per_day: sums[0],
        percent_max: sums[1],
        cpz_mg: sums[2],
        fluoxetine_mg: sums[3],
        unknown,
    }
}

/// One issue's daily dose on each scale (a scale's `None`: the drug is not
/// in its table), or why its milligrams are unknown; `gap` is the days
/// since the issue date before it, if any.
fn issue_dose(
    m: &MedItem,
    p: &ProductDose,
    form: Form,
    gap: Option<f64>,
) -> Result<IssueDose, UnknownDose> {
    let depot = form == Form::Depot;
    let stated = (!depot)
        .then(|| m.stated.amount.get())
        .flatten()
        .filter(|_| m.stated.ml == p.liquid);
    let strength = p.mg_per_unit.ok_or(UnknownDose::NoStrength)?;
    let mg = match stated {
        Some(a) => a * strength,
        None => {
            let q = m.quantity.get().ok_or(UnknownDose::NoQuantity)?;
            let licensed = p.max.filter(|_| depot).map(|x| x.per_days);
            let longest = licensed.map_or(INTERVAL_DAYS.1, |l| l.max(INTERVAL_DAYS.1));
            let interval = match gap {
                Some(g) => g.clamp(INTERVAL_DAYS.0, longest),
                None => licensed.map_or(SINGLE_ISSUE_DAYS, |l| l.max(SINGLE_ISSUE_DAYS)),
            };
            strength * q / interval
        }
    };
    Ok([
        Some(mg),
        p.max.map(|x| mg / x.mg_per_day * 100.0),
        p.cpz_100mg.map(|c| mg / c * 100.0),
        p.fluoxetine_40mg.map(|f| mg / f * 40.0),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::classifier::DrugKey;
    use crate::classify::dose_text::daily_amount;
    use crate::spec::AuditSpec;

    const D: &str = "2024-03-31";
    const OLANZAPINE_10: u64 = 321614001; // Olanzapine 10mg tablets
    const OLANZAPINE_5: u64 = 321612002; // Olanzapine 5mg tablets
    const RISPERIDONE_2: u64 = 321590000; // Risperidone 2mg tablets
    const RISPERIDONE_LIQUID: u64 = 321597002; // Risperidone 1mg/ml oral solution
    const HALOPERIDOL_DEPOT: u64 = 36053611000001108; // decanoate 100mg/1ml ampoules
    const PALIPERIDONE_3M: u64 = 32879211000001105; // 525mg/2.625ml, 3-monthly

    /// The bundled spec's drugs, as a run on dm+d-coded issues meets them.
    struct Run {
        spec: AuditSpec,
        table: DrugTable,
        meds: Vec<MedItem>,
    }

    fn date(s: &str) -> Date {
        crate::date::DateFormat::from_spec("%Y-%m-%d")
            .unwrap()
            .parse(s)
            .unwrap()
    }

    impl Run {
        fn new() -> Run {
            Run {
                spec: AuditSpec::bundled().unwrap(),
                table: DrugTable::default(),
                meds: vec![],
            }
        }

        fn drug(&mut self, dmd: u64) -> u32 {
            let info = self.spec.classifier.describe(DrugKey::new(Some(dmd), None));
            self.table.add(info)
        }

        /// An issue with a quantity and a dosage instruction ("" = none).
        fn issue(&mut self, dmd: u64, on: &str, quantity: &str, text: &str) -> &mut Run {
            let drug = self.drug(dmd);
            self.meds.push(MedItem {
                patient: 0,
                date: date(on),
                drug,
                quantity: Thousandths::quantity(Some(quantity)),
                stated: StatedDaily::new(daily_amount(text)),
            });
            self
        }

        fn at(&mut self, on: &str) -> DosesAt {
            self.of("antipsychotic", on)
        }

        /// The doses of a concept's drugs held on a date.
        fn of(&mut self, concept: &str, on: &str) -> DosesAt {
            self.meds.sort();
            let concept = self
                .spec
                .compiled
                .concepts
                .iter()
                .position(|c| c.name == concept)
                .unwrap() as u8;
            let profiles = DoseProfiles::new(&self.table, &self.spec.doses);
            doses_at(&self.meds, &self.table, &profiles, concept, date(on))
        }
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn interval_between_the_last_two_issues() {
        // 56 x 10 mg over the 28 days since the issue before: 20 mg a day,
        // 100% of olanzapine's 20 mg, 20 / 3.33 x 100 chlorpromazine mg.
        let mut r = Run::new();
        r.issue(OLANZAPINE_10, "2024-01-03", "28", "")
            .issue(OLANZAPINE_10, "2024-01-31", "56", "");
        let d = r.at(D);
        assert_eq!(d.held.len(), 1);
        let h = &d.held[0];
        assert_eq!((h.drug.as_str(), h.form), ("olanzapine", Form::Oral));
        assert_eq!(h.last_issued, date("2024-01-31"));
        assert_eq!(h.mg_per_day, Some(20.0));
        assert_eq!(h.percent_max, Some(100.0));
        assert!(close(h.cpz_mg, 20.0 / 3.33 * 100.0));
        // Weekly supplies (7 days apart): 7 x 10 mg / 7 days.
        let mut r = Run::new();
        r.issue(OLANZAPINE_10, "2024-03-01", "7", "")
            .issue(OLANZAPINE_10, "2024-03-08", "7", "");
        assert_eq!(r.at(D).held[0].mg_per_day, Some(10.0));
        // Issued 6 days apart: one supply of 35 tablets over 28 days.
        let mut r = Run::new();
        r.issue(OLANZAPINE_10, "2024-03-01", "28", "")
            .issue(OLANZAPINE_10, "2024-03-07", "7", "");
        assert_eq!(r.at(D).held[0].mg_per_day, Some(12.5));
        // 28 tablets 7 days after the last supply: 28 x 10 mg / 7.
        let mut r = Run::new();
        r.issue(OLANZAPINE_10, "2024-03-01", "28", "")
            .issue(OLANZAPINE_10, "2024-03-08", "28", "");
        assert_eq!(r.at(D).held[0].mg_per_day, Some(40.0));
        // An issue before the 3 months is not the issue before: one issue, 28 days.
        let mut r = Run::new();
        r.issue(OLANZAPINE_10, "2023-12-31", "28", "")
            .issue(OLANZAPINE_10, "2024-03-01", "56", "");
        assert_eq!(r.at(D).held[0].mg_per_day, Some(20.0));
    }

    #[test]
    fn a_single_issue_lasts_28_days_and_nothing_older_is_held() {
        let mut r = Run::new();
        r.issue(RISPERIDONE_2, "2024-02-15", "28", "");
        let d = r.at(D);
        assert_eq!(d.held[0].mg_per_day, Some(2.0));
        assert_eq!(d.held[0].percent_max, Some(12.5));
        // Issued 3 months before D to the day: not held.
        let mut r = Run::new();
        r.issue(RISPERIDONE_2, "2023-12-31", "28", "");
        assert_eq!(r.at(D), DosesAt::default());
        assert_eq!(r.at(D).total(DoseScale::BnfMaximum), None);
    }

    #[test]
    fn a_clear_dosage_instruction_wins() {
        let mut r = Run::new();
        r.issue(RISPERIDONE_2, "2024-02-15", "28", "1 twice a day");
        assert_eq!(r.at(D).held[0].mg_per_day, Some(4.0));
        // A liquid: 2 ml twice a day of 1 mg/ml.
        let mut r = Run::new();
        r.issue(RISPERIDONE_LIQUID, "2024-02-15", "100", "2ml twice a day");
        assert_eq!(r.at(D).held[0].mg_per_day, Some(4.0));
        // Tablets stated for a liquid: the instruction is not used; 100 ml
        // of 1 mg/ml over 28 days.
        let mut r = Run::new();
        r.issue(RISPERIDONE_LIQUID, "2024-02-15", "100", "1 tablet daily");
        assert!(close(r.at(D).held[0].mg_per_day, 100.0 / 28.0));
        // An unclear instruction leaves the estimate from the quantity.
        let mut r = Run::new();
        r.issue(RISPERIDONE_2, "2024-02-15", "28", "1-2 at night");
        assert_eq!(r.at(D).held[0].mg_per_day, Some(2.0));
    }

    #[test]
    fn unknown_strength_or_quantity_leaves_the_dose_unknown() {
        let mut r = Run::new();
        let id = r.drug(OLANZAPINE_10);
        r.table.drugs[id as usize].name = "Olanzapine tablets".into();
        r.meds.push(MedItem {
            patient: 0,
            date: date("2024-03-01"),
            drug: id,
            quantity: Thousandths::quantity(Some("28")),
            stated: StatedDaily::NONE,
        });
        let d = r.at(D);
        assert_eq!((d.held[0].mg_per_day, d.held[0].percent_max), (None, None));
        assert_eq!(d.held[0].unknown, Some(UnknownDose::NoStrength));
        assert_eq!(d.total(DoseScale::BnfMaximum), None);
        // A second drug with a known dose does not make the total known.
        r.issue(RISPERIDONE_2, "2024-03-01", "28", "");
        assert_eq!(r.at(D).held.len(), 2);
        assert_eq!(r.at(D).total(DoseScale::BnfMaximum), None);
        // 28 vials of a depot as if they were tablets: 28 x 100 mg over 28
        // days is 933% of the maximum, a recording error: unknown.
        let mut r = Run::new();
        r.issue(HALOPERIDOL_DEPOT, "2024-03-10", "28", "");
        let h = &r.at(D).held[0];
        assert_eq!(h.unknown, Some(UnknownDose::Implausible));
        assert_eq!((h.mg_per_day, h.percent_max), (None, None));
        // A missing quantity.
        let mut r = Run::new();
        r.issue(RISPERIDONE_2, "2024-03-01", "", "");
        assert_eq!(r.at(D).held[0].mg_per_day, None);
        assert_eq!(r.at(D).held[0].unknown, Some(UnknownDose::NoQuantity));
        // ... unless the instruction states the daily amount.
        let mut r = Run::new();
        r.issue(RISPERIDONE_2, "2024-03-01", "", "1 at night");
        assert_eq!(r.at(D).held[0].mg_per_day, Some(2.0));
        assert_eq!(r.at(D).held[0].unknown, None);
        // Two strengths on the latest supply, one without a quantity: unknown.
        let mut r = Run::new();
        r.issue(RISPERIDONE_2, "2024-03-01", "28", "").issue(
            RISPERIDONE_LIQUID,
            "2024-03-01",
            "",
            "",
        );
        assert_eq!(r.at(D).held[0].mg_per_day, None);
        assert_eq!(r.at(D).held[0].unknown, Some(UnknownDose::NoQuantity));
    }

    #[test]
    fn depots_count_per_injection_over_their_interval() {
        // One 100 mg ampoule, one issue: its licensed 28 days, against
        // 300 mg every 28 days.
        let mut r = Run::new();
        r.issue(HALOPERIDOL_DEPOT, "2024-03-10", "1", "");
        let h = r.at(D).held[0].clone();
        assert_eq!(h.form, Form::Depot);
        assert!(close(h.mg_per_day, 100.0 / 28.0));
        assert!(close(h.percent_max, 100.0 / 3.0));
        // Issued 14 days apart: twice the dose.
        let mut r = Run::new();
        r.issue(HALOPERIDOL_DEPOT, "2024-02-25", "1", "").issue(
            HALOPERIDOL_DEPOT,
            "2024-03-10",
            "1",
            "",
        );
        assert!(close(r.at(D).held[0].percent_max, 200.0 / 3.0));
        // A 3-monthly 525 mg injection, once: 525 mg per 84 days, 100%.
        let mut r = Run::new();
        r.issue(PALIPERIDONE_3M, "2024-02-01", "1", "");
        assert!(close(r.at(D).held[0].percent_max, 100.0));
        // A dosage instruction is not a depot's daily amount.
        let mut r = Run::new();
        r.issue(HALOPERIDOL_DEPOT, "2024-03-10", "1", "1 daily");
        assert!(close(r.at(D).held[0].mg_per_day, 100.0 / 28.0));
    }

    #[test]
    fn strengths_issued_together_add_up_and_a_switch_counts_the_latest() {
        let mut r = Run::new();
        r.issue(OLANZAPINE_10, "2024-03-01", "28", "")
            .issue(OLANZAPINE_5, "2024-03-01", "28", "");
        let d = r.at(D);
        assert_eq!(d.held.len(), 1);
        assert_eq!(d.held[0].mg_per_day, Some(15.0));
        assert_eq!(d.total(DoseScale::BnfMaximum), Some(75.0));
        // Two strengths a day apart are one supply too.
        let mut r = Run::new();
        r.issue(OLANZAPINE_10, "2024-03-01", "28", "")
            .issue(OLANZAPINE_5, "2024-03-02", "28", "");
        assert_eq!(r.at(D).held[0].mg_per_day, Some(15.0));
        // 10 mg, then 28 days later 5 mg: the dose is the 5 mg issue's.
        let mut r = Run::new();
        r.issue(OLANZAPINE_10, "2024-01-10", "28", "")
            .issue(OLANZAPINE_5, "2024-02-07", "28", "");
        assert_eq!(r.at(D).held[0].mg_per_day, Some(5.0));
    }

    #[test]
    fn totals_add_drugs_on_each_scale() {
        // Olanzapine 20 mg (100%) and risperidone 2 mg (12.5%).
        let mut r = Run::new();
        r.issue(OLANZAPINE_10, "2024-02-02", "28", "")
            .issue(OLANZAPINE_10, "2024-03-01", "56", "")
            .issue(RISPERIDONE_2, "2024-03-01", "28", "");
        let d = r.at(D);
        assert_eq!(d.total(DoseScale::BnfMaximum), Some(112.5));
        let cpz = 20.0 / 3.33 * 100.0 + 2.0 / 1.67 * 100.0;
        assert!(close(d.total(DoseScale::Chlorpromazine), cpz));
    }

    #[test]
    fn antidepressants_add_up_in_fluoxetine_equivalents() {
        const SERTRALINE_50: u64 = 321959007; // 98.5 mg = 40 mg fluoxetine
        const MIRTAZAPINE_15: u64 = 375193003; // 50.9 mg
        const CITALOPRAM_20: u64 = 321987003; // not in Hayasaka's table
        let mut r = Run::new();
        r.issue(SERTRALINE_50, "2024-03-01", "56", "").issue(
            MIRTAZAPINE_15,
            "2024-03-01",
            "28",
            "1 at night",
        );
        let d = r.of("antidepressant", D);
        assert_eq!(d.held.len(), 2);
        // 100 mg / 98.5 x 40 + 15 mg / 50.9 x 40.
        let flu = 100.0 / 98.5 * 40.0 + 15.0 / 50.9 * 40.0;
        assert!(close(d.total(DoseScale::Fluoxetine), flu));
        // No antipsychotic scale for an antidepressant.
        assert_eq!(d.total(DoseScale::BnfMaximum), None);
        // Nor an antipsychotic among them.
        assert_eq!(r.at(D), DosesAt::default());
        // Citalopram: milligrams known, no fluoxetine equivalent.
        r.issue(CITALOPRAM_20, "2024-03-01", "28", "");
        let d = r.of("antidepressant", D);
        assert_eq!(d.held.len(), 3);
        assert_eq!(d.total(DoseScale::Fluoxetine), None);
    }
}
