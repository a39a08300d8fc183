//! Public practice-level prescribing files: which published layout a file
//! is in, and how its columns map to the canonical prescribing table.
//!
//! - **EPD** (NHSBSA English Prescribing Dataset, 2014 on): `YEAR_MONTH`
//!   (`201709`, or `2017_09` in some copies), `PRACTICE_CODE`, `BNF_CODE`,
//!   `ITEMS`, `ADQUSAGE`, with columns 4–5 named `AREA_TEAM_*`, then
//!   `STP_*`, then `ICB_*` as the NHS reorganised; `PCO_*` is the CCG or
//!   sub-ICB location.
//! - **HSCIC practice level prescribing** (2010–2018): ` SHA,PCT,PRACTICE,
//!   BNF CODE,BNF NAME,ITEMS,NIC,ACT COST,QUANTITY,PERIOD,` with padded
//!   names and values and a trailing comma; no ADQ column.
//!
//! Column names are matched trimmed and case-insensitively.

use std::path::Path;

use super::mapping::TableMapping;
use super::source::{SourceError, TableSource};
use super::table::TableKind;

/// A published layout of practice-level prescribing data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// EPD with `AREA_TEAM_*` columns (2014–2019).
    EpdAreaTeam,
    /// EPD with `STP_*` columns (2019–2022).
    EpdStp,
    /// EPD with `ICB_*` columns (2022 on).
    EpdIcb,
    /// HSCIC practice level prescribing (no ADQ).
    Hscic,
}

impl Layout {
    /// The layout's name as reported.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::EpdAreaTeam => "EPD (AREA_TEAM columns)",
            Layout::EpdStp => "EPD (STP columns)",
            Layout::EpdIcb => "EPD (ICB columns)",
            Layout::Hscic => "HSCIC practice level prescribing",
        }
    }

    /// True when the layout has ADQ values.
    pub(crate) fn has_adq(self) -> bool {
        self != Layout::Hscic
    }
}

/// Why a file is not usable as prescribing data.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// The file cannot be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The header matches no known layout.
    #[error("{path}: not a known prescribing layout (EPD with YEAR_MONTH, PRACTICE_CODE, BNF_CODE, ITEMS; or HSCIC with PRACTICE, BNF CODE, ITEMS, PERIOD); the columns are: {columns}")]
    Unknown {
        /// The file.
        path: String,
        /// Its columns.
        columns: String,
    },
}

/// A prescribing file opened in its layout.
#[derive(Debug)]
pub struct PrescribingFile {
    /// The file, its columns mapped to the canonical prescribing table.
    pub source: TableSource,
    /// The layout found.
    pub layout: Layout,
}

/// Canonical column -> (EPD name, HSCIC name); `None` where a layout lacks it.
const COLUMNS: [(&str, Option<&str>, Option<&str>); 12] = [
    ("period", Some("YEAR_MONTH"), Some("PERIOD")),
    ("practice_code", Some("PRACTICE_CODE"), Some("PRACTICE")),
    ("practice_name", Some("PRACTICE_NAME"), None),
    ("bnf_code", Some("BNF_CODE"), Some("BNF CODE")),
    ("items", Some("ITEMS"), Some("ITEMS")),
    ("adq", Some("ADQUSAGE"), None),
    ("quantity", Some("TOTAL_QUANTITY"), Some("QUANTITY")),
    ("bnf_name", Some("BNF_DESCRIPTION"), Some("BNF NAME")),
    ("sub_icb_code", Some("PCO_CODE"), Some("PCT")),
    ("sub_icb_name", Some("PCO_NAME"), None),
    ("region_code", Some("REGIONAL_OFFICE_CODE"), None),
    ("region_name", Some("REGIONAL_OFFICE_NAME"), None),
];

/// Opens a prescribing file (CSV, CSV.gz or Parquet) and finds its layout.
pub fn open(path: &Path) -> Result<PrescribingFile, LayoutError> {
    let mut source = TableSource::file(TableKind::Prescribing, path, TableMapping::default());
    // A CSV file is read in one pass later: here only its header.
    let names = source.column_names()?;
    let find = |want: &str| {
        names
            .iter()
            .find(|n| n.trim().eq_ignore_ascii_case(want))
            .cloned()
    };
    let has = |want: &str| find(want).is_some();
    let layout = if has("YEAR_MONTH") && has("PRACTICE_CODE") && has("BNF_CODE") {
        if has("ICB_CODE") {
            Layout::EpdIcb
        } else if has("STP_CODE") {
            Layout::EpdStp
        } else {
            Layout::EpdAreaTeam
        }
    } else if has("PRACTICE") && has("BNF CODE") && has("PERIOD") {
        Layout::Hscic
    } else {
        return Err(LayoutError::Unknown {
            path: path.display().to_string(),
            columns: names.join(", "),
        });
    };
    let mut mapping = TableMapping::default();
    let mut map = |canonical: &str, want: Option<&str>| {
        // A column the layout lacks maps to a name no file has: it reads as empty.
        let source = want
            .and_then(find)
            .unwrap_or_else(|| format!("\u{0}absent {canonical}"));
        mapping.rename.insert(canonical.to_string(), source);
    };
    let epd = layout != Layout::Hscic;
    for (canonical, epd_name, hscic_name) in COLUMNS {
        map(canonical, if epd { epd_name } else { hscic_name });
    }
    let (icb_code, icb_name) = match layout {
        Layout::EpdAreaTeam => (Some("AREA_TEAM_CODE"), Some("AREA_TEAM_NAME")),
        Layout::EpdStp => (Some("STP_CODE"), Some("STP_NAME")),
        Layout::EpdIcb => (Some("ICB_CODE"), Some("ICB_NAME")),
        Layout::Hscic => (Some("SHA"), None),
    };
    map("icb_code", icb_code);
    map("icb_name", icb_name);
    source.mapping = mapping;
    Ok(PrescribingFile { source, layout })
}

/// True for a GP practice code: one letter and five digits (`B85010`).
/// Other prescribers (out-of-hours services, hospitals, community
/// services) have other codes, or `-` where none was recorded.
pub(crate) fn is_practice_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 6 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn practice_codes() {
        assert!(is_practice_code("B85010"));
        for bad in ["", "-", "b85010", "B8501", "B850100", "Y0A123", "UNIDEN"] {
            assert!(!is_practice_code(bad), "{bad}");
        }
    }
}
