//! Tests of the inventory readers, on real lockfiles and manifests (fixtures/inventory).
