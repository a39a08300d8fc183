//! The scales a daily dose is expressed on: for antipsychotics the
//! percentage of the BNF maximum (RCPsych CR190's high-dose standard) and
//! chlorpromazine equivalents (Leucht et al. 2016, the DDD method); for
//! antidepressants fluoxetine equivalents (Hayasaka et al. 2015). The tables
//! are spec files with their sources in `spec/doses/PROVENANCE.md`.

use std::io::Cursor;

use polars::prelude::*;
use serde::Deserialize;

use crate::classify::classifier::DrugInfo;
use crate::classify::form::Form;
use crate::classify::strength::first_strength;

/// How far back from a date an issue makes its drug held, for its dose.
pub const HELD_MONTHS: u32 = 3;

/// The scales a total daily dose is expressed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoseScale {
    /// Percent of the BNF maximum daily dose, summed over drugs (CR190).
    BnfMaximum,
    /// Chlorpromazine-equivalent milligrams a day, summed over drugs.
    Chlorpromazine,
    /// Fluoxetine-equivalent milligrams a day, summed over drugs (oral
    /// antidepressants).
    Fluoxetine,
}

/// The dose tables of a spec.
#[derive(Clone, Debug, Default)]
pub struct DoseScales {
    maxima: Vec<Maximum>,
    chlorpromazine: Vec<(String, Form, f64)>,
    /// Oral mg a day equivalent to 40 mg of fluoxetine, by ingredient;
    /// `None` when the spec has no fluoxetine table.
    fluoxetine: Option<Vec<(String, f64)>>,
}

/// One row of the BNF maximum table.
#[derive(Clone, Debug)]
struct Maximum {
    ingredient: String,
    form: Form,
    limit: BnfMaximum,
    name_contains: Option<String>,
    strengths_mg: Vec<f64>,
}

/// A product's BNF maximum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BnfMaximum {
    /// The maximum as a daily dose (a depot's maximum over its interval).
    pub mg_per_day: f64,
    /// The licensed interval the maximum is given over: 1 for oral drugs,
    /// a depot's days between injections.
    pub per_days: f64,
}

/// Leucht's spellings that differ from the BNF's (the spec's ingredients).
const LEUCHT_SPELLINGS: &[(&str, &str)] = &[("periciazine", "pericyazine")];
/// Hayasaka's spellings that differ from the BNF's.
const HAYASAKA_SPELLINGS: &[(&str, &str)] = &[("dothiepin", "dosulepin")];

/// A drug's name as the spec's ingredients table spells it.
fn bnf_spelling(drug: &str, spellings: &[(&str, &str)]) -> String {
    let drug = drug.to_lowercase();
    spellings
        .iter()
        .find(|(other, _)| *other == drug)
        .map_or(drug.clone(), |(_, bnf)| bnf.to_string())
}

/// A positive number from a table cell.
fn positive(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| *v > 0.0)
}

impl DoseScales {
    /// Reads the BNF maximum table (`ingredient, form, max_mg, per_days,
    /// name_contains, strengths_mg`) and Leucht's table (`route, drug,
    /// CPZ100MGEQ`).
    pub(crate) fn parse(bnf_maximum: &[u8], leucht: &[u8]) -> Result<DoseScales, String> {
        let mut maxima = Vec::new();
        let rows = string_rows(
            bnf_maximum,
            &[
                "ingredient",
                "form",
                "max_mg",
                "per_days",
                "name_contains",
                "strengths_mg",
            ],
        )?;
        for (line, r) in rows.iter().enumerate() {
            let at = |what: &str| format!("BNF maximum table, data row {}: {what}", line + 1);
            let form = form_of(&r[1]).ok_or_else(|| at(&format!("form {:?}", r[1])))?;
            let max = positive(&r[2]).ok_or_else(|| at(&format!("max_mg {:?}", r[2])))?;
            let days = positive(&r[3]).ok_or_else(|| at(&format!("per_days {:?}", r[3])))?;
            let strengths_mg = r[5]
                .split(';')
                .filter(|s| !s.trim().is_empty())
                .map(|s| positive(s.trim()).ok_or_else(|| at(&format!("strength {s:?}"))))
                .collect::<Result<_, _>>()?;
            maxima.push(Maximum {
                ingredient: r[0].to_lowercase(),
                form,
                limit: BnfMaximum {
                    mg_per_day: max / days,
                    per_days: days,
                },
                name_contains: Some(r[4].to_lowercase()).filter(|s| !s.is_empty()),
                strengths_mg,
            });
        }
        let mut chlorpromazine = Vec::new();
        for (line, r) in string_rows(leucht, &["route", "drug", "CPZ100MGEQ"])?
            .iter()
            .enumerate()
        {
            let at = |what: &str| format!("Leucht table, data row {}: {what}", line + 1);
            let form = match r[0].as_str() {
                "oral" => Form::Oral,
                "SAI" => Form::Injection,
                "LAI" => Form::Depot,
                other => return Err(at(&format!("route {other:?}"))),
            };
            let mg = positive(&r[2]).ok_or_else(|| at(&format!("CPZ100MGEQ {:?}", r[2])))?;
            chlorpromazine.push((bnf_spelling(&r[1], LEUCHT_SPELLINGS), form, mg));
        }
        Ok(DoseScales {
            maxima,
            chlorpromazine,
            fluoxetine: None,
        })
    }

    /// Adds Hayasaka's table (`drug, fluoxetine_40mg_equivalent_mg`);
    /// fluoxetine itself is the reference.
    pub(crate) fn with_fluoxetine(mut self, hayasaka: &[u8]) -> Result<DoseScales, String> {
        let mut table = vec![("fluoxetine".to_string(), 40.0)];
        for (line, r) in string_rows(hayasaka, &["drug", "fluoxetine_40mg_equivalent_mg"])?
            .iter()
            .enumerate()
        {
            let mg = positive(&r[1]).ok_or_else(|| {
                format!(
                    "fluoxetine table, data row {}: fluoxetine_40mg_equivalent_mg {:?}",
                    line + 1,
                    r[1]
                )
            })?;
            table.push((bnf_spelling(&r[0], HAYASAKA_SPELLINGS), mg));
        }
        self.fluoxetine = Some(table);
        Ok(self)
    }

    /// Whether the spec gives the tables of a scale.
    pub(crate) fn has(&self, scale: DoseScale) -> bool {
        scale != DoseScale::Fluoxetine || self.fluoxetine.is_some()
    }

    /// The BNF maximum of a product, if the table has it; `strength_mg` is
    /// the milligrams per tablet or per injection.
    pub(crate) fn maximum(
        &self,
        ingredient: &str,
        form: Form,
        name: &str,
        strength_mg: Option<f64>,
    ) -> Option<BnfMaximum> {
        let name = name.to_lowercase();
        self.maxima
            .iter()
            .find(|m| {
                m.ingredient == ingredient
                    && m.form == form
                    && m.name_contains.as_ref().is_none_or(|n| name.contains(n))
                    && (m.strengths_mg.is_empty()
                        || strength_mg.is_some_and(|s| m.strengths_mg.contains(&s)))
            })
            .map(|m| m.limit)
    }

    /// The daily dose (mg) equivalent to 100 mg of oral chlorpromazine a day.
    pub(crate) fn chlorpromazine_100mg(&self, ingredient: &str, form: Form) -> Option<f64> {
        self.chlorpromazine
            .iter()
            .find(|(d, f, _)| d == ingredient && *f == form)
            .map(|(_, _, mg)| *mg)
    }

    /// The oral daily dose (mg) equivalent to 40 mg of fluoxetine a day.
    pub(crate) fn fluoxetine_40mg(&self, ingredient: &str, form: Form) -> Option<f64> {
        if form != Form::Oral {
            return None;
        }
        self.fluoxetine
            .as_ref()?
            .iter()
            .find(|(d, _)| d == ingredient)
            .map(|(_, mg)| *mg)
    }
}

/// What one product's dose is counted in: its strength and where it
/// stands on the spec's two scales.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProductDose {
    /// Milligrams per unit of quantity: per tablet, per ml of a liquid, per
    /// injection (ampoule, vial or syringe) of an injection; `None` when the
    /// name has no readable strength.
    pub mg_per_unit: Option<f64>,
    /// Quantities and stated amounts are millilitres.
    pub liquid: bool,
    /// Its BNF maximum, when the table has its ingredient and form.
    pub max: Option<BnfMaximum>,
    /// Its daily dose equivalent to 100 mg of oral chlorpromazine.
    pub cpz_100mg: Option<f64>,
    /// Its daily dose equivalent to 40 mg of fluoxetine (oral).
    pub fluoxetine_40mg: Option<f64>,
}

impl ProductDose {
    /// A product's strength and scales, from its name, ingredient and form.
    pub fn of(d: &DrugInfo, scales: &DoseScales) -> ProductDose {
        let strength = first_strength(&d.name);
        let injected = matches!(d.form, Form::Depot | Form::Injection);
        // An injection's strength is per ampoule, vial or syringe ("50mg/1ml
        // ampoules", "150mg/1.5ml pre-filled syringes"); a liquid's per ml.
        let (mg_per_unit, liquid) = match strength {
            Some(s) if injected => (Some(s.mg), false),
            Some(s) => (Some(s.mg / s.per_ml.unwrap_or(1.0)), s.per_ml.is_some()),
            None => (None, false),
        };
        let per_item = strength.map(|s| s.mg);
        let ingredient = d.ingredient.as_deref();
        ProductDose {
            mg_per_unit,
            liquid,
            max: ingredient.and_then(|i| scales.maximum(i, d.form, &d.name, per_item)),
            cpz_100mg: ingredient.and_then(|i| scales.chlorpromazine_100mg(i, d.form)),
            fluoxetine_40mg: ingredient.and_then(|i| scales.fluoxetine_40mg(i, d.form)),
        }
    }

    /// What a unit of quantity is: "ml", "injection" or "unit" (tablet,
    /// capsule, sachet).
    pub fn unit(&self, form: Form) -> &'static str {
        match (self.liquid, form) {
            (true, _) => "ml",
            (false, Form::Depot | Form::Injection) => "injection",
            _ => "unit",
        }
    }
}

fn form_of(s: &str) -> Option<Form> {
    match s {
        "oral" => Some(Form::Oral),
        "depot" => Some(Form::Depot),
        _ => None,
    }
}

/// The named columns of a small CSV table as text (a missing value is
/// empty), rows in file order; a UTF-8 byte-order mark is skipped.
fn string_rows(bytes: &[u8], columns: &[&str]) -> Result<Vec<Vec<String>>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(bytes.to_vec()))
        .finish()
        .map_err(|e| e.to_string())?;
    let cols = columns
        .iter()
        .map(|c| {
            df.column(c)
                .map_err(|_| format!("no column {c}"))
                .and_then(|s| s.str().cloned().map_err(|e| e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((0..df.height())
        .map(|i| {
            cols.iter()
                .map(|c| c.get(i).unwrap_or("").trim().to_string())
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> DoseScales {
        DoseScales::parse(
            crate::spec::bundled::file("doses/bnf-maximum-antipsychotic-doses.csv").unwrap(),
            crate::spec::bundled::file("doses/ropensci-chlorpromazineR-leucht2016.csv").unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn bnf_maxima_are_per_day_and_depots_per_interval() {
        let s = bundled();
        let max = |i: &str, f: Form, name: &str, mg: Option<f64>| {
            s.maximum(i, f, name, mg).map(|m| m.mg_per_day)
        };
        assert_eq!(
            max(
                "olanzapine",
                Form::Oral,
                "Olanzapine 10mg tablets",
                Some(10.0)
            ),
            Some(20.0)
        );
        // 300 mg every 28 days.
        assert_eq!(
            max(
                "haloperidol",
                Form::Depot,
                "Haloperidol decanoate 50mg/1ml",
                Some(50.0)
            ),
            Some(300.0 / 28.0)
        );
        // Quetiapine: modified release 800 mg, immediate release 750 mg.
        assert_eq!(
            max(
                "quetiapine",
                Form::Oral,
                "Quetiapine 200mg modified-release tablets",
                Some(200.0)
            ),
            Some(800.0)
        );
        assert_eq!(
            max(
                "quetiapine",
                Form::Oral,
                "Quetiapine 200mg tablets",
                Some(200.0)
            ),
            Some(750.0)
        );
        // Paliperidone palmitate by product family, told apart by strength.
        assert_eq!(
            max("paliperidone", Form::Depot, "", Some(525.0)),
            Some(525.0 / 84.0)
        );
        assert_eq!(
            max("paliperidone", Form::Depot, "", Some(1000.0)),
            Some(1000.0 / 182.0)
        );
        assert_eq!(
            max("paliperidone", Form::Depot, "", Some(100.0)),
            Some(150.0 / 28.0)
        );
        // Not in the table: no maximum, never a guess.
        assert_eq!(max("promazine", Form::Oral, "", Some(25.0)), None);
        assert_eq!(max("haloperidol", Form::Injection, "", Some(5.0)), None);
    }

    #[test]
    fn chlorpromazine_equivalents_by_route_with_bnf_spelling() {
        let s = bundled();
        assert_eq!(s.chlorpromazine_100mg("olanzapine", Form::Oral), Some(3.33));
        assert_eq!(
            s.chlorpromazine_100mg("haloperidol", Form::Depot),
            Some(1.10)
        );
        assert_eq!(
            s.chlorpromazine_100mg("pericyazine", Form::Oral),
            Some(16.67)
        );
        assert_eq!(
            s.chlorpromazine_100mg("chlorpromazine", Form::Oral),
            Some(100.0)
        );
        assert_eq!(s.chlorpromazine_100mg("cariprazine", Form::Oral), None);
    }

    #[test]
    fn a_bad_row_is_named() {
        let bad = b"ingredient,form,max_mg,per_days,name_contains,strengths_mg\nx,patch,1,1,,\n";
        let leucht = b"route,drug,CPZ100MGEQ\n";
        let e = DoseScales::parse(bad, leucht).unwrap_err();
        assert!(e.contains("data row 1") && e.contains("patch"), "{e}");
    }
}
