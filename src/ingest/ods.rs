//! NHS ODS organisation files (`epraccur.csv` for GP practices,
//! `eccg.csv` for CCGs / sub-ICB locations): headerless CSV in the ODS
//! standard layout. Used to place practices in the locality hierarchy when
//! only public data is at hand.
//!
//! epraccur columns used (1-based): 1 code, 2 name, 3 national grouping
//! (region), 4 high level health geography (area team, STP or ICB), 15
//! commissioner (CCG / sub-ICB location), 26 prescribing setting (4 = GP
//! practice). eccg: 1 code, 2 name.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use polars::prelude::*;

use super::accounting::{RejectReason, Tally};
use super::locality::{Level, Units, UNKNOWN};
use super::practices::Practices;
use super::source::SourceError;
use super::table::TableKind;
use crate::ingest::accounting::Location;

/// The prescribing setting ODS gives a GP practice.
pub(crate) const GP_PRACTICE_SETTING: &str = "4";

/// Practices from an ODS practice file.
#[derive(Debug, Default)]
pub struct OdsPractices {
    /// GP practices (setting 4), in file order, with their localities.
    pub practices: Practices,
    /// Codes of organisations in the file that are not GP practices.
    pub other_settings: HashSet<String>,
}

fn read_headerless(path: &Path) -> Result<Vec<Vec<Option<String>>>, SourceError> {
    let unreadable = |e: PolarsError| SourceError::Unreadable {
        path: path.to_path_buf(),
        format: "ODS CSV",
        message: e.to_string(),
    };
    let df = LazyCsvReader::new(PlRefPath::new(path.to_string_lossy().as_ref()))
        .with_has_header(false)
        .with_infer_schema_length(Some(0))
        .finish()
        .and_then(|lf| lf.collect())
        .map_err(unreadable)?;
    let columns: Vec<&StringChunked> = df
        .columns()
        .iter()
        .map(|c| c.str())
        .collect::<PolarsResult<_>>()
        .map_err(unreadable)?;
    Ok((0..df.height())
        .map(|i| {
            columns
                .iter()
                .map(|c| {
                    c.get(i)
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_string)
                })
                .collect()
        })
        .collect())
}

/// Reads an epraccur file, naming sub-ICB locations from an eccg file if given.
pub fn load(
    practices: &Path,
    ccgs: Option<&Path>,
    tally: &mut Tally,
) -> Result<OdsPractices, SourceError> {
    let names: HashMap<String, String> = match ccgs {
        Some(p) => read_headerless(p)?
            .into_iter()
            .filter_map(|r| Some((r.first()?.clone()?, r.get(1)?.clone()?)))
            .collect(),
        None => HashMap::new(),
    };
    let mut out = OdsPractices::default();
    for (i, row) in read_headerless(practices)?.into_iter().enumerate() {
        let field = |k: usize| row.get(k - 1).cloned().flatten();
        let location = Location::Line(i as u64 + 1);
        let Some(code) = field(1) else {
            tally.rejected(
                TableKind::Practices,
                location,
                "practice_code",
                None,
                RejectReason::MissingValue,
            );
            continue;
        };
        if field(26).as_deref() != Some(GP_PRACTICE_SETTING) {
            out.other_settings.insert(code);
            tally.used();
            continue;
        }
        let unit = |c: Option<String>, name: Option<&String>| match c {
            Some(c) => {
                let n = name.cloned().unwrap_or_else(|| c.clone());
                (c, n)
            }
            None => (UNKNOWN.to_string(), "Unknown".to_string()),
        };
        let sub_icb = field(15);
        let sub_icb_name = sub_icb.as_ref().and_then(|c| names.get(c));
        let mut units = Units::new(&code, field(2).as_deref().unwrap_or(&code));
        units[Level::SubIcb] = unit(sub_icb.clone(), sub_icb_name);
        units[Level::Icb] = unit(field(4), None);
        units[Level::Region] = unit(field(3), None);
        if out.practices.insert(units) {
            tally.used();
        } else {
            tally.rejected(
                TableKind::Practices,
                location,
                "practice_code",
                Some(&code),
                RejectReason::DuplicatePractice,
            );
        }
    }
    Ok(out)
}

/// True when a practices file is in the ODS layout: a CSV file whose first
/// line is not a header naming `practice_code`.
pub(crate) fn is_ods_file(path: &Path) -> bool {
    use std::io::BufRead;
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut first = String::new();
    if std::io::BufReader::new(f).read_line(&mut first).is_err() {
        return false;
    }
    let csv = path
        .to_string_lossy()
        .to_ascii_lowercase()
        .trim_end_matches(".gz")
        .ends_with(".csv");
    csv && !first.trim().is_empty() && !first.to_ascii_lowercase().contains("practice_code")
}
