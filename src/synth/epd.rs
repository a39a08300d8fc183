//! A synthetic month of public prescribing data at any scale: an EPD file
//! in the current layout (`ICB_*` columns), NHS Digital list sizes by sex
//! and five-year age band, and a practices table placing each practice in
//! a PCN, sub-ICB, ICB and region. It feeds `stomp-audit measures` for
//! the national-size pages and benchmarks: 6,500 practices is England.
//!
//! Practices differ by more than chance (a log-normal propensity per
//! practice and drug group, and a few practices at three times the rate),
//! so funnels show over-dispersion and outliers as real months do. Rows
//! are real BNF presentations; rows outside the psychotropic groups stand
//! for the rest of a month, which the measures read and drop.

use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::writer::{SynthFormat, TableWriter};
use super::{normal, PRACTICES_HEADER};
use crate::date::Month;

/// What to generate.
#[derive(Clone, Debug)]
pub struct EpdConfig {
    /// Practices (England has about 6,500).
    pub practices: usize,
    /// The month the rows are for.
    pub month: Month,
    /// Prescribing rows per practice (a national month has about 2,500).
    pub rows_per_practice: usize,
    /// The share of those rows that are psychotropic presentations.
    pub psychotropic_share: f64,
    /// Distinct other (non-psychotropic) presentations: the 12 real
    /// ones, and made-up codes outside chapter 4 beyond them (a real
    /// month has some 20,000 codes).
    pub other_codes: usize,
    /// Random seed: the same seed writes the same files.
    pub seed: u64,
    /// CSV or Parquet (list sizes and practices are always CSV, as published).
    pub format: SynthFormat,
    /// Output folder.
    pub out: PathBuf,
}

/// The files written and their sizes in rows.
#[derive(Clone, Debug)]
pub struct EpdFiles {
    /// The prescribing file.
    pub epd: PathBuf,
    /// The list sizes file.
    pub list_sizes: PathBuf,
    /// The practices table.
    pub practices: PathBuf,
    /// Prescribing rows written.
    pub rows: u64,
}

/// A presentation: BNF code, description, units per item, ADQs per unit,
/// and items per 1,000 patients a month at the average practice.
type Presentation = (&'static str, &'static str, f64, f64, f64);

/// Psychotropic presentations, real BNF codes and names; rates give a
/// plausible mix (antidepressants most, depots and lithium rare).
const PSYCHOTROPIC: [Presentation; 24] = [
    ("040201030AAAAAA", "Risperidone_Tab 1mg", 56.0, 0.2, 1.2),
    ("040201060AAACAC", "Olanzapine_Tab 10mg", 28.0, 1.0, 1.5),
    ("0402010ABAAABAB", "Quetiapine_Tab 25mg", 56.0, 0.0625, 2.0),
    ("0402010ABAAAFAF", "Quetiapine_Tab 150mg", 56.0, 0.375, 0.6),
    ("0402010ADAAABAB", "Aripiprazole_Tab 15mg", 28.0, 1.0, 0.7),
    ("0402010J0AAAJAJ", "Haloperidol_Tab 1.5mg", 28.0, 0.2, 0.3),
    (
        "0402020Z0AAABAB",
        "Zuclopenth Decan_Inj 500mg/ml 1ml Amp",
        1.0,
        25.0,
        0.08,
    ),
    ("0402030K0BFABAI", "Priadel_Tab 200mg", 56.0, 0.2, 0.4),
    (
        "0403010B0AAAGAG",
        "Amitriptyline HCl_Tab 10mg",
        28.0,
        0.13,
        6.0,
    ),
    ("0403010X0AAAAAA", "Trazodone HCl_Cap 50mg", 56.0, 0.17, 0.8),
    ("0403030E0AAAAAA", "Fluoxetine HCl_Cap 20mg", 30.0, 1.0, 4.0),
    ("0403030Q0AAAAAA", "Sertraline HCl_Tab 50mg", 28.0, 1.0, 9.0),
    ("0403030X0AAACAC", "Escitalopram_Tab 5mg", 28.0, 0.5, 1.0),
    (
        "0403040W0AAADAD",
        "Venlafaxine_Cap 75mg M/R",
        28.0,
        0.75,
        1.5,
    ),
    ("0403040X0AAAAAA", "Mirtazapine_Tab 30mg", 28.0, 1.0, 3.5),
    ("0401010Z0AAACAC", "Zopiclone_Tab 3.75mg", 28.0, 0.5, 2.0),
    ("0401010Y0AAAAAA", "Zolpidem Tart_Tab 5mg", 28.0, 0.5, 0.3),
    (
        "0401010T0AAAEAE",
        "Temazepam_Oral Soln 10mg/5ml S/F",
        100.0,
        0.05,
        0.1,
    ),
    ("0401020K0AAAJAJ", "Diazepam_Tab 10mg", 28.0, 1.0, 1.5),
    ("0401010ADAAAAAA", "Melatonin_Tab 2mg M/R", 30.0, 1.0, 0.8),
    ("0408010G0AAABAB", "Gabapentin_Cap 300mg", 100.0, 0.17, 2.5),
    ("0408010AEAAABAB", "Pregabalin_Cap 50mg", 56.0, 0.17, 1.5),
    ("0408010AEAAAFAF", "Pregabalin_Cap 200mg", 56.0, 0.67, 1.0),
    (
        "0403040W0AAALAL",
        "Venlafaxine_Tab 225mg M/R",
        28.0,
        2.25,
        0.4,
    ),
];

/// Other presentations: the rest of a month's prescribing.
const OTHER: [Presentation; 12] = [
    (
        "0106040M0BBAIAB",
        "Movicol Plain_Paed Pdr Sach 6.9g",
        30.0,
        1.0,
        2.0,
    ),
    ("0205040D0AAABAB", "Doxazosin Mesil_Tab 2mg", 28.0, 0.5, 4.0),
    ("0206020C0BFAGAU", "Adizem-XL_Cap 120mg", 28.0, 0.5, 1.0),
    (
        "0212000P0AAAEAE",
        "Fenofibrate_Tab 160mg (Micronised)",
        28.0,
        1.0,
        1.0,
    ),
    (
        "0302000N0BCAFBG",
        "Seretide 250_Evohaler 250mcg/25mcg(120D)",
        1.0,
        30.0,
        3.0,
    ),
    ("0501120L0AAAAAA", "Ciprofloxacin_Tab 250mg", 10.0, 0.5, 1.5),
    (
        "0702010F0BCAAAA",
        "Ovestin_Crm 1mg + Applic",
        1.0,
        10.0,
        0.5,
    ),
    ("0802010G0AAAEAE", "Azathioprine_Tab 50mg", 56.0, 0.33, 0.5),
    ("0906040B0AAAAAA", "Alfacalcidol_Cap 250ng", 28.0, 0.25, 0.7),
    ("100302010AAAAAA", "Ketoprofen_Gel 2.5%", 1.0, 10.0, 1.0),
    (
        "1202010Y0AAAAAA",
        "Fluticasone/Azelastine_Spy50/137mcg 120D",
        1.0,
        30.0,
        1.0,
    ),
    (
        "190700000BBCJA0",
        "Resource_ThickenUp Pdr Clr",
        1.0,
        1.0,
        0.3,
    ),
];

/// The EPD columns of the current (ICB) layout, as NHSBSA publishes them.
const EPD_HEADER: [&str; 26] = [
    "YEAR_MONTH",
    "REGIONAL_OFFICE_NAME",
    "REGIONAL_OFFICE_CODE",
    "ICB_NAME",
    "ICB_CODE",
    "PCO_NAME",
    "PCO_CODE",
    "PRACTICE_NAME",
    "PRACTICE_CODE",
    "ADDRESS_1",
    "ADDRESS_2",
    "ADDRESS_3",
    "ADDRESS_4",
    "POSTCODE",
    "BNF_CHEMICAL_SUBSTANCE",
    "CHEMICAL_SUBSTANCE_BNF_DESCR",
    "BNF_CODE",
    "BNF_DESCRIPTION",
    "BNF_CHAPTER_PLUS_CODE",
    "QUANTITY",
    "ITEMS",
    "TOTAL_QUANTITY",
    "ADQUSAGE",
    "NIC",
    "ACTUAL_COST",
    "UNIDENTIFIED",
];

/// Five-year age bands of the list sizes, with a share of an average
/// list in each (per sex).
const AGE_BANDS: [(&str, f64); 20] = [
    ("0_4", 0.027),
    ("5_9", 0.030),
    ("10_14", 0.030),
    ("15_19", 0.028),
    ("20_24", 0.030),
    ("25_29", 0.034),
    ("30_34", 0.035),
    ("35_39", 0.034),
    ("40_44", 0.032),
    ("45_49", 0.032),
    ("50_54", 0.033),
    ("55_59", 0.032),
    ("60_64", 0.028),
    ("65_69", 0.024),
    ("70_74", 0.022),
    ("75_79", 0.017),
    ("80_84", 0.011),
    ("85_89", 0.006),
    ("90_94", 0.003),
    ("95+", 0.002),
];

/// Where practice `i` of `n` sits: its PCN, sub-ICB, ICB and region
/// numbers (England: about 1,250 PCNs, 106 sub-ICBs, 42 ICBs, 7 regions).
fn place(i: usize, n: usize) -> [usize; 4] {
    let group = |count: usize| i * count.min(n) / n.max(1);
    [i / 5, group(106), group(42), group(7)]
}

/// The codes of the PCN, sub-ICB, ICB and region at a [`place`], the same
/// in the EPD rows and the practices table.
fn locality_codes([pcn, sub, icb, region]: [usize; 4]) -> [String; 4] {
    [
        format!("U{:05}", pcn + 1),
        format!("S{:03}", sub + 1),
        format!("QI{:03}", icb + 1),
        format!("Y{:02}", region + 1),
    ]
}

/// One practice: its code, name, list size and propensities.
struct Practice {
    code: String,
    name: String,
    list: f64,
    /// Multipliers of the average rate per drug group (antipsychotics,
    /// lithium, antidepressants, hypnotics, gabapentinoids, other).
    propensity: [f64; 6],
}

fn group(bnf: &str) -> usize {
    match &bnf[..bnf.len().min(7)] {
        "0402010" | "0402020" => 0,
        "0402030" => 1,
        b if b.starts_with("0403") => 2,
        b if b.starts_with("0401") => 3,
        b if b.starts_with("0408") => 4,
        _ => 5,
    }
}

fn practice(i: usize, rng: &mut ChaCha8Rng) -> Practice {
    let list = (8_000.0 * (0.5 * normal(rng)).exp()).clamp(1_000.0, 40_000.0);
    let mut propensity = [1.0; 6];
    for p in &mut propensity {
        *p = (0.3 * normal(rng)).exp();
    }
    // About one practice in a hundred prescribes one group at three times
    // the rate: the outliers a funnel should find.
    if rng.gen_bool(0.01) {
        propensity[rng.gen_range(0..5)] *= 3.0;
    }
    Practice {
        code: format!("P{:05}", i + 1),
        name: format!("Synthetic Practice {}", i + 1),
        list: list.round(),
        propensity,
    }
}

/// A Poisson draw (Knuth below 30, normal approximation above).
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u64 {
    if mean < 30.0 {
        let limit = (-mean).exp();
        let (mut k, mut p) = (0u64, 1.0);
        loop {
            p *= rng.gen::<f64>();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
    (mean + mean.sqrt() * normal(rng)).round().max(0.0) as u64
}

/// The other presentations: the real ones, then made-up ones up to `n`
/// (never fewer than the real ones), all in code order when there are
/// any. A made-up code keeps the BNF shape (15 letters and digits) in a
/// chapter no measure counts.
fn other_presentations(n: usize) -> Vec<(String, String, f64, f64, f64)> {
    const CHAPTERS: [&str; 8] = ["01", "02", "03", "05", "06", "09", "10", "13"];
    let mut all: Vec<(String, String, f64, f64, f64)> = OTHER
        .iter()
        .map(|&(b, name, u, a, r)| (b.to_string(), name.to_string(), u, a, r))
        .collect();
    for k in 0..n.saturating_sub(OTHER.len()) {
        let chapter = CHAPTERS[k % CHAPTERS.len()];
        let code = format!("{chapter}{:07}ZZAAAA", k / CHAPTERS.len());
        all.push((
            code,
            format!("Synthetic product {k}_Tab 10mg"),
            28.0,
            1.0,
            0.5,
        ));
    }
    // In code order, as a practice's rows come; the real ones alone as they were.
    if n > OTHER.len() {
        all.sort_by(|a, b| a.0.cmp(&b.0));
    }
    all
}

/// Writes the three files into `cfg.out` (which must exist).
pub fn generate(cfg: &EpdConfig) -> polars::prelude::PolarsResult<EpdFiles> {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let practices: Vec<Practice> = (0..cfg.practices).map(|i| practice(i, &mut rng)).collect();
    let (year, month) = cfg.month.year_month();
    let stamp = format!("{year:04}{month:02}");
    let practices_path = write_practices(cfg, &practices)?;
    let list_sizes = write_list_sizes(cfg, &practices, &stamp)?;
    let mut w = TableWriter::create(&cfg.out, &format!("epd_{stamp}"), &EPD_HEADER, cfg.format)?;
    let psychotropic = ((cfg.rows_per_practice as f64 * cfg.psychotropic_share).round() as usize)
        .clamp(1, cfg.rows_per_practice.max(1));
    // Repeated presentations split the rate between their rows, as pack
    // sizes split a real month's.
    let other = other_presentations(cfg.other_codes);
    let repeats = [
        psychotropic.div_ceil(PSYCHOTROPIC.len()),
        (cfg.rows_per_practice - psychotropic).div_ceil(other.len()),
    ];
    let mut rows = 0u64;
    for (i, p) in practices.iter().enumerate() {
        let at = place(i, cfg.practices);
        let [_, sub, icb, region] = at;
        let (pco_name, icb_name, region_name) = (
            format!("SYNTHETIC SUB-ICB {}", sub + 1),
            format!("SYNTHETIC ICB {}", icb + 1),
            format!("SYNTHETIC REGION {}", region + 1),
        );
        let [_, pco, icb, region] = locality_codes(at);
        for k in 0..cfg.rows_per_practice {
            let (bnf, name, units, adq, rate) = if k < psychotropic {
                PSYCHOTROPIC[(k + i) % PSYCHOTROPIC.len()]
            } else {
                let (bnf, name, units, adq, rate) = &other[(k + i) % other.len()];
                (bnf.as_str(), name.as_str(), *units, *adq, *rate)
            };
            let repeats = repeats[usize::from(k >= psychotropic)];
            let mean = p.list / 1000.0 * rate * p.propensity[group(bnf)] / repeats as f64;
            let items = poisson(&mut rng, mean).max(1);
            let quantity = units * items as f64;
            let nic = quantity * 0.05;
            w.row(&[
                &stamp,
                &region_name,
                &region,
                &icb_name,
                &icb,
                &pco_name,
                &pco,
                &p.name,
                &p.code,
                "",
                "",
                "",
                "",
                "",
                &bnf[..9],
                name.split('_').next().unwrap_or(name),
                bnf,
                name,
                "",
                &format!("{units:.1}"),
                &items.to_string(),
                &format!("{quantity:.1}"),
                &format!("{:.5}", quantity * adq),
                &format!("{nic:.2}"),
                &format!("{:.5}", nic * 0.93),
                "N",
            ])?;
            rows += 1;
        }
    }
    w.finish()?;
    let ext = match cfg.format {
        SynthFormat::Csv => "csv",
        SynthFormat::Parquet => "parquet",
    };
    Ok(EpdFiles {
        epd: cfg.out.join(format!("epd_{stamp}.{ext}")),
        list_sizes,
        practices: practices_path,
        rows,
    })
}

/// NHS Digital's list sizes: an ALL row and a row per sex and age band.
fn write_list_sizes(
    cfg: &EpdConfig,
    practices: &[Practice],
    stamp: &str,
) -> polars::prelude::PolarsResult<PathBuf> {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let header = [
        "PUBLICATION",
        "EXTRACT_DATE",
        "ORG_TYPE",
        "ORG_CODE",
        "ONS_CODE",
        "POSTCODE",
        "SEX",
        "AGE_GROUP_5",
        "NUMBER_OF_PATIENTS",
    ];
    let stem = format!("list_sizes_{stamp}");
    let mut w = TableWriter::create(&cfg.out, &stem, &header, SynthFormat::Csv)?;
    let (year, month) = cfg.month.year_month();
    let date = format!("01{}{year}", MONTHS[(month as usize).clamp(1, 12) - 1]);
    let total: f64 = AGE_BANDS.iter().map(|b| b.1).sum::<f64>() * 2.0;
    for p in practices {
        let mut cells = Vec::with_capacity(40);
        for sex in ["MALE", "FEMALE"] {
            for (band, share) in AGE_BANDS {
                cells.push((sex, band, (p.list * share / total).round() as u64));
            }
        }
        let all: u64 = cells.iter().map(|c| c.2).sum();
        let all = all.to_string();
        w.row(&[
            "GP_PRAC_PAT_LIST",
            &date,
            "GP",
            &p.code,
            "",
            "",
            "ALL",
            "ALL",
            &all,
        ])?;
        for (sex, band, n) in cells {
            w.row(&[
                "GP_PRAC_PAT_LIST",
                &date,
                "GP",
                &p.code,
                "",
                "",
                sex,
                band,
                &n.to_string(),
            ])?;
        }
    }
    w.finish()?;
    Ok(cfg.out.join(format!("{stem}.csv")))
}

/// The practices table (the extract's layout), with PCNs.
fn write_practices(
    cfg: &EpdConfig,
    practices: &[Practice],
) -> polars::prelude::PolarsResult<PathBuf> {
    let mut w = TableWriter::create(&cfg.out, "practices", &PRACTICES_HEADER, SynthFormat::Csv)?;
    for (i, p) in practices.iter().enumerate() {
        let at = place(i, cfg.practices);
        let [pcn, sub, icb, region] = at;
        let [pcn_code, sub_code, icb_code, region_code] = locality_codes(at);
        w.row(&[
            &p.code,
            &p.name,
            &pcn_code,
            &format!("Synthetic PCN {}", pcn + 1),
            &sub_code,
            &format!("Synthetic sub-ICB {}", sub + 1),
            &icb_code,
            &format!("Synthetic ICB {}", icb + 1),
            &region_code,
            &format!("Synthetic Region {}", region + 1),
        ])?;
    }
    w.finish()?;
    Ok(cfg.out.join("practices.csv"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn practices_nest_in_englands_numbers_of_localities() {
        let n = 6500;
        let places: Vec<[usize; 4]> = (0..n).map(|i| place(i, n)).collect();
        let distinct = |k: usize| {
            let mut v: Vec<usize> = places.iter().map(|p| p[k]).collect();
            v.dedup();
            v.len()
        };
        assert_eq!(distinct(0), 1300);
        assert_eq!(distinct(1), 106);
        assert_eq!(distinct(2), 42);
        assert_eq!(distinct(3), 7);
        // A small run still has one of each.
        assert_eq!(place(2, 3), [0, 2, 2, 2]);
    }

    #[test]
    fn made_up_presentations_are_distinct_bnf_codes_no_measure_counts() {
        let all = other_presentations(20_000);
        assert_eq!(all.len(), 20_000);
        let codes: std::collections::BTreeSet<&str> = all.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(codes.len(), 20_000);
        for (code, ..) in &all {
            assert!(crate::classify::codelist::is_bnf_item_code(code), "{code}");
            assert!(!code.starts_with("04"), "{code}");
        }
        assert_eq!(other_presentations(0).len(), OTHER.len());
    }

    #[test]
    fn groups_follow_the_measures_bnf_sections() {
        assert_eq!(group("0402020Z0AAABAB"), 0);
        assert_eq!(group("0402030K0BFABAI"), 1);
        assert_eq!(group("0403030Q0AAAAAA"), 2);
        assert_eq!(group("0401010Z0AAACAC"), 3);
        assert_eq!(group("0408010G0AAABAB"), 4);
        assert_eq!(group("0106040M0BBAIAB"), 5);
    }
}
