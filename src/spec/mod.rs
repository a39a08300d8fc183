//! The audit spec: codelists, concepts, facts and indicators in one
//! declarative file, so a local audit changes a window or a codelist without
//! touching the engine. The default spec (`spec/default.toml`) is bundled.

pub mod bundled;
pub mod compile;
#[cfg(test)]
mod default_checks;
pub mod doses;
pub mod format;
pub mod measures;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::classify::classifier::Classifier;
use crate::classify::codelist::{Codelist, CodelistColumns, CodelistError};
pub use compile::{CompiledSpec, Concept, ConceptKind, Fact, Indicator, Term};
pub use doses::DoseScales;
use format::SpecFile;
pub use measures::Measure;

/// Why a spec could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The spec or one of its codelists could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The spec is not valid TOML of the expected shape.
    #[error("the audit spec {origin} is not valid: {message}")]
    Parse {
        /// Where the spec came from.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// A codelist is unusable.
    #[error(transparent)]
    Codelist(#[from] CodelistError),
    /// The spec is well-formed but inconsistent.
    #[error("the audit spec is not consistent: {0}")]
    Invalid(String),
}

/// A loaded, compiled audit spec with its codelists and classifier.
#[derive(Debug)]
pub struct AuditSpec {
    /// The spec's name.
    pub name: String,
    /// The spec's version.
    pub version: String,
    /// Where it came from: `bundled:default.toml` or a path.
    pub origin: String,
    /// SHA-256 of the spec text.
    pub sha256: String,
    /// The codelists used, by name.
    pub codelists: BTreeMap<String, Codelist>,
    /// The compiled program.
    pub compiled: CompiledSpec,
    /// The code classifier built from the codelists.
    pub classifier: Classifier,
    /// Practice-level measures on public prescribing data.
    pub measures: Vec<Measure>,
    /// The scales daily doses are expressed on (empty when the spec has no
    /// `[doses]`).
    pub doses: DoseScales,
}

impl AuditSpec {
    /// The bundled default STOMP spec.
    pub fn bundled() -> Result<AuditSpec, SpecError> {
        AuditSpec::from_text(bundled::DEFAULT_SPEC, "bundled:default.toml", |rel| {
            bundled::file(rel)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| SpecError::Read {
                    path: PathBuf::from(rel),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "not bundled"),
                })
        })
    }

    /// A spec file on disk; its codelist paths are relative to its folder.
    pub fn load(path: &Path) -> Result<AuditSpec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        AuditSpec::from_text(&text, &path.display().to_string(), |rel| {
            let p = dir.join(rel);
            std::fs::read(&p).map_err(|source| SpecError::Read { path: p, source })
        })
    }

    /// Parses and compiles spec text, reading codelists through `read`.
    pub(crate) fn from_text(
        text: &str,
        origin: &str,
        read: impl Fn(&str) -> Result<Vec<u8>, SpecError>,
    ) -> Result<AuditSpec, SpecError> {
        let file: SpecFile = toml::from_str(text).map_err(|e| SpecError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut codelists = BTreeMap::new();
        for (name, def) in &file.codelists {
            let bytes = read(&def.file)?;
            let columns = CodelistColumns {
                code: &def.column,
                term: def.term_column.as_deref().or(if def.column == "code" {
                    Some("term")
                } else {
                    None
                }),
                bnf: def.bnf_column.as_deref(),
            };
            let source_name = if origin.starts_with("bundled:") {
                format!("bundled:{}", def.file)
            } else {
                def.file.clone()
            };
            let list = match def.format {
                format::CodelistFormat::Csv => {
                    Codelist::from_csv(name, &source_name, &def.version, &bytes, &columns)?
                }
                format::CodelistFormat::GmSde => {
                    Codelist::from_gm_sde(name, &source_name, &def.version, &bytes)
                }
            };
            codelists.insert(name.clone(), list);
        }
        let star_pu = match &file.star_pu_weights {
            Some(rel) => Some(measures::parse_star_pu(&read(rel)?).map_err(|e| {
                SpecError::Invalid(format!("the STAR-PU file {rel} is not usable: {e}"))
            })?),
            None => None,
        };
        let bnf_names = file
            .drugs
            .bnf_names
            .as_ref()
            .and_then(|n| codelists.get(n))
            .map_or(&[][..], |l: &Codelist| &l.entries[..]);
        let measures = measures::compile(&file.measures, star_pu.as_ref(), bnf_names)?;
        let doses = match &file.doses {
            Some(d) => {
                let scales = DoseScales::parse(&read(&d.bnf_maximum)?, &read(&d.chlorpromazine)?);
                match &d.fluoxetine {
                    Some(f) => {
                        let table = read(f)?;
                        scales.and_then(|s| s.with_fluoxetine(&table))
                    }
                    None => scales,
                }
                .map_err(|e| SpecError::Invalid(format!("the dose tables are not usable: {e}")))?
            }
            None => DoseScales::default(),
        };
        let mut compiled = compile::compile(&file, &codelists)?;
        let needs_doses = compiled.facts.iter().any(|f| {
            matches!(
                f,
                Fact::DoseKnown { .. } | Fact::DoseAbove { .. } | Fact::DoseFell { .. }
            )
        });
        if needs_doses && file.doses.is_none() {
            return Err(SpecError::Invalid(
                "dose facts need the dose tables: add a [doses] section (bnf_maximum, chlorpromazine)"
                    .into(),
            ));
        }
        let scale_missing = compiled.facts.iter().any(|f| match f {
            Fact::DoseKnown { scale, .. } | Fact::DoseFell { scale, .. } => !doses.has(*scale),
            _ => false,
        });
        if scale_missing {
            return Err(SpecError::Invalid(
                "a dose fact on the fluoxetine scale needs its table: add fluoxetine = \"...\" to [doses]"
                    .into(),
            ));
        }
        let classifier = Classifier::new(std::mem::take(&mut compiled.parts));
        Ok(AuditSpec {
            name: file.name,
            version: file.version,
            origin: origin.to_string(),
            sha256: format!("{:x}", Sha256::digest(text.as_bytes())),
            codelists,
            compiled,
            classifier,
            measures,
            doses,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_spec_compiles_with_every_indicator() {
        let spec = AuditSpec::bundled().unwrap();
        let ids: Vec<&str> = spec
            .compiled
            .indicators
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        for id in [
            "STOMP01", "STOMP02", "STOMP03", "STOMP03B", "STOMP04", "STOMP04B", "STOMP05",
            "STOMP05B", "STOMP06", "STOMP07", "STOMP08", "STOMP09", "STOMP11", "STOMP12",
            "STOMP13", "STOMP10", "STOMP14", "STOMP14B", "STOMP15",
        ] {
            assert!(ids.contains(&id), "{id} missing");
        }
        assert_eq!(spec.compiled.drug_lookback_months, 36);
        assert_eq!(spec.codelists["ld_cod"].entries.len(), 333);
    }

    #[test]
    fn an_unknown_fact_is_named() {
        let text = bundled::DEFAULT_SPEC.replace(
            "numerator = [\"antipsychotic_polypharmacy\"]",
            "numerator = [\"polypharmacy\"]",
        );
        let err = AuditSpec::from_text(&text, "test", |rel| {
            Ok(bundled::file(rel).unwrap().to_vec())
        })
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("indicator STOMP08 names the fact 'polypharmacy'"),
            "{err}"
        );
    }

    #[test]
    fn a_population_numerator_must_require_the_cohort() {
        let text = bundled::DEFAULT_SPEC.replacen(
            "numerator = [\"ld\"]",
            "numerator = [\"antipsychotic\"]",
            1,
        );
        let err = AuditSpec::from_text(&text, "test", |rel| {
            Ok(bundled::file(rel).unwrap().to_vec())
        })
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("indicator STOMP01: over the registered population"),
            "{err}"
        );
    }

    #[test]
    fn a_cycle_between_facts_is_refused() {
        let text = bundled::DEFAULT_SPEC.replacen(
            "[[indicators]]",
            "[facts.loop_a]\nkind = \"any\"\nof = [\"loop_b\"]\n[facts.loop_b]\nkind = \"all\"\nof = [\"!loop_a\"]\n\n[[indicators]]",
            1,
        );
        let err = AuditSpec::from_text(&text, "test", |rel| {
            Ok(bundled::file(rel).unwrap().to_vec())
        })
        .unwrap_err();
        assert!(err.to_string().contains("refers to itself"), "{err}");
    }

    #[test]
    fn dose_facts_need_the_dose_tables() {
        let text = bundled::DEFAULT_SPEC
            .replace("[doses]", "[doses_gone]")
            .replace("bnf_maximum = \"doses/", "# ")
            .replace("chlorpromazine = \"doses/", "# ")
            .replace("fluoxetine = \"doses/", "# ")
            .replace("review_concept = \"antipsychotic\"", "");
        let text = text.replace("[doses_gone]", "");
        let err = with(&text).unwrap_err();
        assert!(
            err.to_string().contains("dose facts need the dose tables"),
            "{err}"
        );
        // A fall of more than 100% is refused.
        let text = bundled::DEFAULT_SPEC.replace("percent = 25", "percent = 125");
        let err = with(&text).unwrap_err();
        assert!(
            err.to_string().contains("percent must be 1 to 100"),
            "{err}"
        );
        // The fluoxetine scale without its table.
        let text = bundled::DEFAULT_SPEC.replace("fluoxetine = \"doses/", "# ");
        let err = with(&text).unwrap_err();
        assert!(
            err.to_string().contains("fluoxetine scale needs its table"),
            "{err}"
        );
    }

    fn with(text: &str) -> Result<AuditSpec, SpecError> {
        AuditSpec::from_text(text, "test", |rel| Ok(bundled::file(rel).unwrap().to_vec()))
    }

    #[test]
    fn the_bundled_measures_compile() {
        let spec = AuditSpec::bundled().unwrap();
        let ids: Vec<&str> = spec.measures.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            ["EPD01", "EPD02", "EPD03", "EPD04", "EPD05", "EPD06", "EPD07"]
        );
        assert!(spec.measures[2].is_proportion() && !spec.measures[0].is_proportion());
        assert!(spec.measures[1].needs_adq() && !spec.measures[0].needs_adq());
        // Antidepressant STAR-PU: OpenPrescribing's weights, [male, female] per band.
        let measures::Denominator::StarPu(w) = &spec.measures[4].denominator else {
            panic!("EPD05 is per STAR-PU");
        };
        assert_eq!(w.weights[1], [0.1, 0.1]);
        assert_eq!(w.weights[3], [12.9, 27.1]);
    }

    #[test]
    fn defined_daily_doses_come_from_the_strength_in_the_name() {
        let spec = AuditSpec::bundled().unwrap();
        let ddd = spec.measures[6].numerator.ddd.as_ref().unwrap();
        // Pregabalin 75mg capsules (0408010AEAAACAC), from the BNF names
        // table: 56 x 75 / 300.
        assert_eq!(ddd.ddds("0408010AEAAACAC", None, 56.0), Some(14.0));
        // A code the table lacks: the strength from the data's own name.
        assert_eq!(
            ddd.ddds(
                "0408010G0ZZZZZZ",
                Some("Gabapentin_Oral Soln 250mg/5ml"),
                360.0
            ),
            Some(10.0)
        );
        // No readable strength, or a chemical without a DDD: unknown.
        assert_eq!(
            ddd.ddds("0408010G0ZZZZZZ", Some("Gabapentin_Oral Soln"), 1.0),
            None
        );
        assert_eq!(ddd.ddds("0408010H0AAAAAA", None, 1.0), None);
    }

    #[test]
    fn epd06_leaves_out_what_bdzper1000_leaves_out() {
        let spec = AuditSpec::bundled().unwrap();
        let f = &spec.measures[5].numerator.filter;
        // Real presentation codes (BNF names table).
        for (code, name) in [
            ("0401020K0BLABAE", "Diazepam 10mg RecTubes"),
            ("0401020K0AAADAD", "Diazepam 5mg/2.5ml rectal solution tube"),
            (
                "0401020K0AAACAC",
                "Diazepam 10mg/2ml solution for injection ampoules",
            ),
            (
                "0401020K0BBAAAQ",
                "Diazemuls 10mg/2ml emulsion for injection ampoules",
            ),
            (
                "0401020P0AAAAAA",
                "Lorazepam 4mg/1ml solution for injection ampoules",
            ),
            ("0401010B0AAAXAX", "Chloral hydrate 100mg suppositories"),
            ("0401010ADAAAAAA", "melatonin"),
            ("0401010ACAAAAAA", "sodium oxybate"),
        ] {
            assert!(!f.matches(code), "{code} {name}");
        }
        for (code, name) in [
            ("0401020K0AAAHAH", "Diazepam 2mg tablets"),
            ("0401020P0AAABAB", "Lorazepam 1mg tablets"),
            (
                "0401010B0AABGBG",
                "Chloral hydrate 200mg/5ml oral suspension",
            ),
            ("0401010Z0AAAAAA", "zopiclone"),
        ] {
            assert!(f.matches(code), "{code} {name}");
        }
    }

    #[test]
    fn measure_mistakes_are_named() {
        let unknown_weights = bundled::DEFAULT_SPEC.replace(
            "weights = \"antidepressants_adq\"",
            "weights = \"antidepresants\"",
        );
        let err = with(&unknown_weights).unwrap_err().to_string();
        assert!(
            err.contains("EPD05: the STAR-PU file has no weighting 'antidepresants'"),
            "{err}"
        );
        let outside = bundled::DEFAULT_SPEC.replace(
            "numerator = { value = \"items\", bnf = [\"0402020\"] }",
            "numerator = { value = \"items\", bnf = [\"0402030\"] }",
        );
        let err = with(&outside).unwrap_err().to_string();
        assert!(
            err.contains(
                "EPD03: a share of prescribing needs its numerator inside its denominator"
            ),
            "{err}"
        );
        let twice = bundled::DEFAULT_SPEC.replace("id = \"EPD07\"", "id = \"EPD01\"");
        assert!(with(&twice)
            .unwrap_err()
            .to_string()
            .contains("measure EPD01 is defined twice"));
        let no_ddd = bundled::DEFAULT_SPEC.replace(
            ", ddd_mg = { \"0408010G0\" = 1800.0, \"0408010AE\" = 300.0 }",
            "",
        );
        assert!(with(&no_ddd)
            .unwrap_err()
            .to_string()
            .contains("EPD07: a measure in defined daily doses needs ddd_mg"));
        let bad_bnf = bundled::DEFAULT_SPEC.replace("\"~0401020K0%BQ\"", "\"~0401020K0%%BQ\"");
        assert!(with(&bad_bnf)
            .unwrap_err()
            .to_string()
            .contains("is not a BNF pattern"));
    }
}
