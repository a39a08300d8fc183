//! The strength of a product, read from its dm+d or BNF name, as
//! milligrams per unit of the quantity prescribed: per tablet, capsule or
//! sachet, or per millilitre of a liquid ("250mg/5ml" is 50 mg per ml).
//!
//! Prescribing data give a quantity (tablets, millilitres); a defined daily
//! dose is in milligrams, so a measure in DDDs needs the strength of each
//! presentation. dm+d names state it in a fixed way ("Pregabalin 75mg
//! capsules", "Gabapentin 50mg/ml oral solution sugar free"), as did the
//! older BNF names ("Pregabalin_Cap 75mg", "Gabapentin_Oral Soln 250mg/5ml").
//! A name with no readable strength gives `None`: the caller lists it, and
//! never guesses.

/// Milligrams per unit of quantity, from the first strength in `name`.
pub(crate) fn mg_per_unit(name: &str) -> Option<f64> {
    first_strength(name).map(|s| s.mg / s.per_ml.unwrap_or(1.0))
}

/// The first strength in a name: milligrams, per so many millilitres when
/// the name gives a volume ("250mg/5ml" is 250 mg per 5 ml).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Strength {
    /// Milligrams.
    pub mg: f64,
    /// The volume they are in, for a liquid or an injection.
    pub per_ml: Option<f64>,
}

/// The first strength in `name`, if it has a readable one.
pub(crate) fn first_strength(name: &str) -> Option<Strength> {
    name.split(|c: char| c.is_whitespace() || c == '_')
        .find_map(strength)
}

/// One token such as `75mg`, `500microgram`, `1g`, `250mg/5ml`, `50mg/ml`.
fn strength(token: &str) -> Option<Strength> {
    let t = token.to_ascii_lowercase();
    let (amount, per) = match t.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (t.as_str(), None),
    };
    let digits = amount
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|&n| n > 0)?;
    let value: f64 = amount[..digits].parse().ok()?;
    let mg = match &amount[digits..] {
        "mg" => value,
        "microgram" | "micrograms" | "mcg" => value / 1000.0,
        "g" => value * 1000.0,
        _ => return None,
    };
    match per {
        None => Some(Strength { mg, per_ml: None }),
        Some(p) => {
            let unit_start = p.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
            let volume: f64 = if unit_start == 0 {
                1.0
            } else {
                p[..unit_start].parse().ok()?
            };
            (&p[unit_start..] == "ml" && volume > 0.0).then_some(Strength {
                mg,
                per_ml: Some(volume),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strengths_from_dmd_and_old_bnf_names() {
        let cases = [
            ("Pregabalin 75mg capsules", Some(75.0)),
            (
                "Misabri PR 82.5mg tablets (CNX Therapeutics Ltd)",
                Some(82.5),
            ),
            ("Gabapentin 50mg/ml oral solution sugar free", Some(50.0)),
            ("Gabapentin_Oral Soln 250mg/5ml", Some(50.0)),
            ("Pregabalin_Cap 300mg", Some(300.0)),
            ("Lorazepam 500microgram tablets", Some(0.5)),
            (
                "Sodium valproate 1g modified-release granules sachets",
                Some(1000.0),
            ),
            ("Gabapentin oral solution", None),
            ("Paracetamol_Oral Susp 120mg/5ml/Gel", None),
        ];
        for (name, want) in cases {
            assert_eq!(mg_per_unit(name), want, "{name}");
        }
    }
}
