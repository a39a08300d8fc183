//! The column-mapping file: lets an EMIS, SystmOne or CPRD export load
//! unchanged by renaming its columns and naming its date format.
//!
//! ```toml
//! date_format = "%d/%m/%Y"        # default for every table
//!
//! [medications]
//! file = "Issues.csv"             # optional: another file name in the extract folder
//! date_format = "%Y-%m-%d"        # optional: this table's dates
//! [medications.columns]           # canonical name = name in the export
//! patient_id = "PatientID"
//! date = "IssueDate"
//! dmd_code = "DMD"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::table::TableKind;
use crate::date::DateFormat;

/// Why a mapping file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The file could not be read.
    #[error("cannot read the column mapping {path}: {source}")]
    Read {
        /// The mapping file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("the column mapping {path} is not valid: {message}")]
    Parse {
        /// The mapping file.
        path: PathBuf,
        /// What the parser said, with line and column.
        message: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    date_format: Option<String>,
    patients: Option<RawTable>,
    registrations: Option<RawTable>,
    medications: Option<RawTable>,
    clinical_events: Option<RawTable>,
    practices: Option<RawTable>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    file: Option<String>,
    date_format: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
}

/// How one table of an export maps to the canonical table.
#[derive(Clone, Debug, Default)]
pub struct TableMapping {
    /// A file name to use instead of the canonical stem.
    pub file: Option<String>,
    /// The date format of the table's date columns.
    pub date_format: DateFormat,
    /// Canonical column name -> name in the export.
    pub rename: BTreeMap<String, String>,
}

impl TableMapping {
    /// The export's name for a canonical column.
    pub(crate) fn source_name<'a>(&'a self, canonical: &'a str) -> &'a str {
        self.rename
            .get(canonical)
            .map(String::as_str)
            .unwrap_or(canonical)
    }
}

/// The mapping for every table; the default maps each name to itself, ISO dates.
#[derive(Clone, Debug, Default)]
pub struct ColumnMapping {
    tables: BTreeMap<TableKind, TableMapping>,
}

impl ColumnMapping {
    /// Reads a mapping file.
    pub fn load(path: &Path) -> Result<ColumnMapping, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ColumnMapping::parse(&text).map_err(|message| MappingError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses mapping text; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<ColumnMapping, String> {
        let raw: RawMapping = toml::from_str(text).map_err(|e| e.to_string())?;
        let default_format = match &raw.date_format {
            Some(f) => DateFormat::from_spec(f)?,
            None => DateFormat::Iso,
        };
        let mut tables = BTreeMap::new();
        for (kind, table) in [
            (TableKind::Patients, raw.patients),
            (TableKind::Registrations, raw.registrations),
            (TableKind::Medications, raw.medications),
            (TableKind::ClinicalEvents, raw.clinical_events),
            (TableKind::Practices, raw.practices),
        ] {
            let table = table.unwrap_or_default();
            let known: Vec<&str> = kind.columns().iter().map(|c| c.name).collect();
            if let Some(bad) = table.columns.keys().find(|k| !known.contains(&k.as_str())) {
                return Err(format!(
                    "[{kind}.columns] names '{bad}', which is not a column of {kind}; its columns are: {}",
                    known.join(", ")
                ));
            }
            let date_format = match &table.date_format {
                Some(f) => DateFormat::from_spec(f)?,
                None => default_format.clone(),
            };
            tables.insert(
                kind,
                TableMapping {
                    file: table.file,
                    date_format,
                    rename: table.columns,
                },
            );
        }
        Ok(ColumnMapping { tables })
    }

    /// The mapping for one table.
    pub fn table(&self, kind: TableKind) -> TableMapping {
        self.tables.get(&kind).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_and_sets_date_formats() {
        let m = ColumnMapping::parse(
            "date_format = \"%d/%m/%Y\"\n[medications]\ndate_format = \"iso\"\n[medications.columns]\npatient_id = \"PatientID\"\n",
        )
        .unwrap();
        let meds = m.table(TableKind::Medications);
        assert_eq!(meds.source_name("patient_id"), "PatientID");
        assert_eq!(meds.source_name("date"), "date");
        assert_eq!(meds.date_format, DateFormat::Iso);
        assert_eq!(
            m.table(TableKind::Patients).date_format,
            DateFormat::Pattern("%d/%m/%Y".into())
        );
    }

    #[test]
    fn unknown_columns_list_the_valid_ones() {
        let err = ColumnMapping::parse("[patients.columns]\nnhs_number = \"x\"\n").unwrap_err();
        assert!(err.contains("'nhs_number'"), "{err}");
        assert!(
            err.contains("patient_id, date_of_birth, sex, date_of_death"),
            "{err}"
        );
    }

    #[test]
    fn unknown_tables_are_refused() {
        assert!(ColumnMapping::parse("[vaccinations]\nfile = \"v.csv\"\n").is_err());
    }
}
