//! The generated bindings of the `psa:connector` WIT package. Plugins do not use them directly:
//! the rest of the SDK wraps them.
//!
//! There is one generation per world because a component exports exactly one world's interface.
//! The import side of both lands in the same custom section namespace and merges harmlessly; the
//! export side is only emitted where a plugin invokes [`crate::export_connector!`] or
//! [`crate::export_rule!`]. The matching-rule generation reuses the connector generation's shared
//! interfaces (`types`, `log`) so both worlds speak the same Rust types.
#![allow(missing_docs, unsafe_code, clippy::all)]

wit_bindgen::generate!({
    path: "wit",
    world: "psa:connector/connector",
    pub_export_macro: true,
    export_macro_name: "__export_connector_world",
    default_bindings_module: "psa_sdk::bindings",
    runtime_path: "psa_sdk::__private::wit_bindgen::rt",
    additional_derives: [PartialEq],
});

/// Bindings of the `matching-rule` world.
pub mod rule {
    wit_bindgen::generate!({
        path: "wit",
        world: "psa:connector/matching-rule",
        pub_export_macro: true,
        export_macro_name: "__export_rule_world",
        default_bindings_module: "psa_sdk::bindings::rule",
        runtime_path: "psa_sdk::__private::wit_bindgen::rt",
        additional_derives: [PartialEq],
        with: {
            "psa:connector/types@0.2.0": crate::bindings::psa::connector::types,
            "psa:connector/log@0.2.0": crate::bindings::psa::connector::log,
        },
    });
}
