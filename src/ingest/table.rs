//! The canonical extract: which tables there are and which columns each has.
//!
//! Names follow OpenSAFELY ehrQL, the closest thing to a standard for
//! pseudonymised GP data in England; the README ("Input: the extract")
//! lists them for users.

use std::fmt;

/// One table of the canonical extract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableKind {
    /// One row per patient: demographics.
    Patients,
    /// Periods of registration at a practice.
    Registrations,
    /// One row per medication issue.
    Medications,
    /// Coded clinical events (diagnoses, reviews, observations).
    ClinicalEvents,
    /// The practice -> PCN -> sub-ICB -> ICB -> region hierarchy.
    Practices,
    /// Public practice-level prescribing (EPD): one row per practice,
    /// presentation and pack size a month. Not part of an extract.
    Prescribing,
    /// Registered patients per practice by sex and age band (NHS Digital).
    /// Not part of an extract.
    ListSizes,
}

/// A column of a table: its canonical name and whether it must be present.
#[derive(Clone, Copy, Debug)]
pub struct ColumnSpec {
    /// The canonical (ehrQL) column name.
    pub name: &'static str,
    /// A missing required column is an error; a missing optional one reads as empty.
    pub required: bool,
}

const fn req(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        required: true,
    }
}
const fn opt(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        required: false,
    }
}

const PATIENTS: &[ColumnSpec] = &[
    req("patient_id"),
    opt("date_of_birth"),
    opt("sex"),
    opt("date_of_death"),
];
const REGISTRATIONS: &[ColumnSpec] = &[
    req("patient_id"),
    req("practice_code"),
    req("start_date"),
    opt("end_date"),
];
const MEDICATIONS: &[ColumnSpec] = &[
    req("patient_id"),
    req("date"),
    opt("dmd_code"),
    opt("bnf_code"),
    opt("quantity"),
    opt("dose_text"),
    opt("drug_name"),
];
const CLINICAL_EVENTS: &[ColumnSpec] = &[
    req("patient_id"),
    req("date"),
    req("snomedct_code"),
    opt("numeric_value"),
];
const PRACTICES: &[ColumnSpec] = &[
    req("practice_code"),
    opt("practice_name"),
    opt("pcn_code"),
    opt("pcn_name"),
    opt("sub_icb_code"),
    opt("sub_icb_name"),
    opt("icb_code"),
    opt("icb_name"),
    opt("region_code"),
    opt("region_name"),
];

const PRESCRIBING: &[ColumnSpec] = &[
    req("period"),
    req("practice_code"),
    req("bnf_code"),
    req("items"),
    opt("adq"),
    opt("quantity"),
    opt("bnf_name"),
    opt("practice_name"),
    opt("sub_icb_code"),
    opt("sub_icb_name"),
    opt("icb_code"),
    opt("icb_name"),
    opt("region_code"),
    opt("region_name"),
];
const LIST_SIZES: &[ColumnSpec] = &[
    req("extract_date"),
    req("org_type"),
    req("org_code"),
    req("sex"),
    req("age_group"),
    req("patients"),
];

impl TableKind {
    /// Every table, in the order the audit reads them.
    pub const ALL: [TableKind; 5] = [
        TableKind::Practices,
        TableKind::Patients,
        TableKind::Registrations,
        TableKind::ClinicalEvents,
        TableKind::Medications,
    ];

    /// The file stem the table is found under in an extract folder.
    pub(crate) fn file_stem(self) -> &'static str {
        match self {
            TableKind::Patients => "patients",
            TableKind::Registrations => "registrations",
            TableKind::Medications => "medications",
            TableKind::ClinicalEvents => "clinical_events",
            TableKind::Practices => "practices",
            TableKind::Prescribing => "prescribing",
            TableKind::ListSizes => "list_sizes",
        }
    }

    /// The table's columns, each marked required or optional.
    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            TableKind::Patients => PATIENTS,
            TableKind::Registrations => REGISTRATIONS,
            TableKind::Medications => MEDICATIONS,
            TableKind::ClinicalEvents => CLINICAL_EVENTS,
            TableKind::Practices => PRACTICES,
            TableKind::Prescribing => PRESCRIBING,
            TableKind::ListSizes => LIST_SIZES,
        }
    }

    /// Looks a table up by its file stem.
    pub(crate) fn from_stem(stem: &str) -> Option<TableKind> {
        TableKind::ALL.into_iter().find(|t| t.file_stem() == stem)
    }
}

impl fmt::Display for TableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_stem())
    }
}
