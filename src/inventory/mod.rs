//! The inventory: what a repository declares (manifests, lockfiles), ships (SBOMs) and runs
//! (SBOMs and image scans of a deployment), as [`Component`]s; the SBOM documents posture
//! writes from it; the component policy of `.posture.yml` (licences, banned packages)
//! judged over it; and the HTTP APIs a repository declares in its OpenAPI documents.
//!
//! Pure, like [`crate::analyze`]: texts and rows in, values out. The edges that read
//! repositories ([`crate::review`], `posture sbom`) and keep the org's inventory
//! ([`crate::store`]) call in here.
//!
//! [`Component`]: crate::model::Component

pub mod drift;
pub mod license;
pub mod lockfiles;
pub mod openapi;
pub mod policy;
pub mod sbom;
