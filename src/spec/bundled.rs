//! The default spec and its codelists, compiled into the binary so the
//! default audit runs from anywhere. The files live in `spec/`; adding a
//! codelist to the default spec means adding its line here.

/// The default spec file's text.
pub(crate) const DEFAULT_SPEC: &str = include_str!("../../spec/default.toml");

/// The bundled files, by path relative to the spec file.
pub(crate) const FILES: &[(&str, &[u8])] = &[
    ("codelists/ebmdatalab-rx_df-bnf-chapter04-psychotropic-subset.csv", include_bytes!("../../spec/codelists/ebmdatalab-rx_df-bnf-chapter04-psychotropic-subset.csv")),
    ("codelists/nhs-drug-refsets-antidepdrug_cod.csv", include_bytes!("../../spec/codelists/nhs-drug-refsets-antidepdrug_cod.csv")),
    ("codelists/nhs-drug-refsets-epildrug_cod.csv", include_bytes!("../../spec/codelists/nhs-drug-refsets-epildrug_cod.csv")),
    ("codelists/nhsd-primary-care-domain-refsets-autism_cod.csv", include_bytes!("../../spec/codelists/nhsd-primary-care-domain-refsets-autism_cod.csv")),
    ("codelists/nhsd-primary-care-domain-refsets-bmival_cod.csv", include_bytes!("../../spec/codelists/nhsd-primary-care-domain-refsets-bmival_cod.csv")),
    ("codelists/nhsd-primary-care-domain-refsets-bp_cod.csv", include_bytes!("../../spec/codelists/nhsd-primary-care-domain-refsets-bp_cod.csv")),
    ("codelists/nhsd-primary-care-domain-refsets-bpdec_cod.csv", include_bytes!("../../spec/codelists/nhsd-primary-care-domain-refsets-bpdec_cod.csv")),
    ("codelists/nhsd-primary-care-domain-refsets-depr_cod.csv", include_bytes!("../../spec/codelists/nhsd-primary-care-domain-refsets-depr_cod.csv")),
    ("codelists/nhsd-primary-care-domain-refsets-epil_cod.csv", include_bytes!("../../spec/codelists/nhsd-primary-care-domain-refsets-epil_cod.csv")),
    ("codelists/nhsd-primary-care-domain-refsets-ld_cod.csv", include_bytes!("../../spec/codelists/nhsd-primary-care-domain-refsets-ld_cod.csv")),
    ("codelists/nhsd-primary-care-domain-refsets-medrvw_cod.csv", include_bytes!("../../spec/codelists/nhsd-primary-care-domain-refsets-medrvw_cod.csv")),
    ("codelists/nhsd-primary-care-domain-refsets-mh_cod.csv", include_bytes!("../../spec/codelists/nhsd-primary-care-domain-refsets-mh_cod.csv")),
    ("codelists/nhsd-primary-care-domain-refsets-palcare_cod.csv", include_bytes!("../../spec/codelists/nhsd-primary-care-domain-refsets-palcare_cod.csv")),
    ("codelists/opensafely-addictive-medicines.csv", include_bytes!("../../spec/codelists/opensafely-addictive-medicines.csv")),
    ("codelists/opensafely-anxiety-disorders.csv", include_bytes!("../../spec/codelists/opensafely-anxiety-disorders.csv")),
    ("codelists/opensafely-cholesterol-tests.csv", include_bytes!("../../spec/codelists/opensafely-cholesterol-tests.csv")),
    ("codelists/opensafely-first-generation-antipsychotics-excluding-long-acting-depots-dmd.csv", include_bytes!("../../spec/codelists/opensafely-first-generation-antipsychotics-excluding-long-acting-depots-dmd.csv")),
    ("codelists/opensafely-glycated-haemoglobin-hba1c-tests.csv", include_bytes!("../../spec/codelists/opensafely-glycated-haemoglobin-hba1c-tests.csv")),
    ("codelists/opensafely-haloperidol-subcutaneous-dmd.csv", include_bytes!("../../spec/codelists/opensafely-haloperidol-subcutaneous-dmd.csv")),
    ("codelists/opensafely-levomepromazine-subcutaneous.csv", include_bytes!("../../spec/codelists/opensafely-levomepromazine-subcutaneous.csv")),
    ("codelists/opensafely-long-acting-injectable-and-depot-antipsychotics-dmd.csv", include_bytes!("../../spec/codelists/opensafely-long-acting-injectable-and-depot-antipsychotics-dmd.csv")),
    ("codelists/opensafely-monoamine-oxidase-inhibitors-dmd_new.csv", include_bytes!("../../spec/codelists/opensafely-monoamine-oxidase-inhibitors-dmd_new.csv")),
    ("codelists/opensafely-other-antidepressants-dmd_new.csv", include_bytes!("../../spec/codelists/opensafely-other-antidepressants-dmd_new.csv")),
    ("codelists/opensafely-prochlorperazine-dmd.csv", include_bytes!("../../spec/codelists/opensafely-prochlorperazine-dmd.csv")),
    ("codelists/opensafely-second-generation-antipsychotics-excluding-long-acting-injections.csv", include_bytes!("../../spec/codelists/opensafely-second-generation-antipsychotics-excluding-long-acting-injections.csv")),
    ("codelists/opensafely-selective-serotonin-reuptake-inhibitors-dmd_new.csv", include_bytes!("../../spec/codelists/opensafely-selective-serotonin-reuptake-inhibitors-dmd_new.csv")),
    ("codelists/opensafely-systolic-blood-pressure-qof.csv", include_bytes!("../../spec/codelists/opensafely-systolic-blood-pressure-qof.csv")),
    ("codelists/opensafely-teratogenic-medicines.csv", include_bytes!("../../spec/codelists/opensafely-teratogenic-medicines.csv")),
    ("codelists/opensafely-tricyclic-and-related-antidepressants-dmd_new.csv", include_bytes!("../../spec/codelists/opensafely-tricyclic-and-related-antidepressants-dmd_new.csv")),
    ("codelists/opensafely-weight-snomed.csv", include_bytes!("../../spec/codelists/opensafely-weight-snomed.csv")),
    ("codelists/stomp-audit-medication-review-extra.csv", include_bytes!("../../spec/codelists/stomp-audit-medication-review-extra.csv")),
    ("codelists/uom-gm-sde-antipsychotics-2.snomed.txt", include_bytes!("../../spec/codelists/uom-gm-sde-antipsychotics-2.snomed.txt")),
    ("codelists/uom-gm-sde-bnf-cns-meds.snomed.txt", include_bytes!("../../spec/codelists/uom-gm-sde-bnf-cns-meds.snomed.txt")),
    ("codelists/uom-gm-sde-hdl-cholesterol.snomed.txt", include_bytes!("../../spec/codelists/uom-gm-sde-hdl-cholesterol.snomed.txt")),
    ("codelists/uom-gm-sde-ldl-cholesterol.snomed.txt", include_bytes!("../../spec/codelists/uom-gm-sde-ldl-cholesterol.snomed.txt")),
    ("codelists/uom-gm-sde-neuropathic-pain.snomed.txt", include_bytes!("../../spec/codelists/uom-gm-sde-neuropathic-pain.snomed.txt")),
    ("codelists/uom-gm-sde-triglycerides.snomed.txt", include_bytes!("../../spec/codelists/uom-gm-sde-triglycerides.snomed.txt")),
    ("codelists/user-RachelS99-dependence-forming-medications-benzodiazepines-dmd.csv", include_bytes!("../../spec/codelists/user-RachelS99-dependence-forming-medications-benzodiazepines-dmd.csv")),
    ("codelists/user-RachelS99-dependence-forming-medications-chloral-and-derivatives-dmd.csv", include_bytes!("../../spec/codelists/user-RachelS99-dependence-forming-medications-chloral-and-derivatives-dmd.csv")),
    ("codelists/user-RachelS99-dependence-forming-medications-clomethiazole-dmd.csv", include_bytes!("../../spec/codelists/user-RachelS99-dependence-forming-medications-clomethiazole-dmd.csv")),
    ("codelists/user-RachelS99-dependence-forming-medications-gabapentinoids-dmd.csv", include_bytes!("../../spec/codelists/user-RachelS99-dependence-forming-medications-gabapentinoids-dmd.csv")),
    ("codelists/user-RachelS99-dependence-forming-medications-z-drugs-dmd.csv", include_bytes!("../../spec/codelists/user-RachelS99-dependence-forming-medications-z-drugs-dmd.csv")),
    ("codelists/user-RachelS99-dfm-disorders-insomnia.csv", include_bytes!("../../spec/codelists/user-RachelS99-dfm-disorders-insomnia.csv")),
    ("codelists/user-milanwiedemann-diastolic-blood-pressure-qof.csv", include_bytes!("../../spec/codelists/user-milanwiedemann-diastolic-blood-pressure-qof.csv")),
    ("doses/bnf-maximum-antipsychotic-doses.csv", include_bytes!("../../spec/doses/bnf-maximum-antipsychotic-doses.csv")),
    ("doses/ropensci-chlorpromazineR-leucht2016.csv", include_bytes!("../../spec/doses/ropensci-chlorpromazineR-leucht2016.csv")),
    ("doses/hayasaka2015-fluoxetine-equivalents.csv", include_bytes!("../../spec/doses/hayasaka2015-fluoxetine-equivalents.csv")),
    ("drugs/ingredients.csv", include_bytes!("../../spec/drugs/ingredients.csv")),
    ("drugs/names.csv", include_bytes!("../../spec/drugs/names.csv")),
    ("weights/star_pu_weights.json", include_bytes!("../../spec/weights/star_pu_weights.json")),
];

/// A bundled file's bytes.
pub fn file(path: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}
