//! The feed's entity model: each entity set, the table and organisation scope it reads, its
//! properties with the SQL expression and EDM type of each; and the errors and parameters a
//! query yields. Shared by the query parser (`odata::filter`, `odata`) and the store.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edm {
    String,
    Decimal,
    Int64,
    Boolean,
    DateTimeOffset,
}

impl Edm {
    pub fn name(self) -> &'static str {
        match self {
            Edm::String => "Edm.String",
            Edm::Decimal => "Edm.Decimal",
            Edm::Int64 => "Edm.Int64",
            Edm::Boolean => "Edm.Boolean",
            Edm::DateTimeOffset => "Edm.DateTimeOffset",
        }
    }
}

/// A property: its OData name, the SQL expression that yields it, its type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prop {
    pub name: &'static str,
    pub sql: &'static str,
    pub edm: Edm,
}

/// An entity set backed by a D1 table (rows of one organisation).
#[derive(Debug)]
pub struct EntitySet {
    pub name: &'static str,
    pub entity_type: &'static str,
    pub table: &'static str,
    /// SQL restricting rows to the organisation (bound as ?1) and to this set.
    pub scope: &'static str,
    pub key: &'static str,
    pub props: &'static [Prop],
}

const fn p(name: &'static str, sql: &'static str, edm: Edm) -> Prop {
    Prop { name, sql, edm }
}

pub const SETS: &[EntitySet] = &[
    EntitySet {
        name: "Calculations",
        entity_type: "Calculation",
        table: "certificates",
        scope: "org_id = ?1 AND mode = 'live' AND kind = 'footprint'",
        key: "Id",
        props: &[
            p("Id", "id", Edm::String),
            p("CalculatedAt", "issued_at", Edm::DateTimeOffset),
            p(
                "Category",
                "json_extract(canonical, '$.result.category')",
                Edm::String,
            ),
            p(
                "ProductId",
                "json_extract(canonical, '$.result.product.id')",
                Edm::String,
            ),
            p(
                "Source",
                "json_extract(canonical, '$.result.source')",
                Edm::String,
            ),
            p(
                "ProductionKgCo2e",
                "json_extract(canonical, '$.result.breakdown.production_kg')",
                Edm::Decimal,
            ),
            p(
                "TransportKgCo2e",
                "json_extract(canonical, '$.result.breakdown.transport_kg')",
                Edm::Decimal,
            ),
            p(
                "UseKgCo2e",
                "json_extract(canonical, '$.result.breakdown.use_kg')",
                Edm::Decimal,
            ),
            p(
                "EndOfLifeKgCo2e",
                "json_extract(canonical, '$.result.breakdown.end_of_life_kg')",
                Edm::Decimal,
            ),
            p("TotalKgCo2e", "total_kg_co2e", Edm::Decimal),
            p("FactorSetVersion", "factor_set_version", Edm::String),
        ],
    },
    EntitySet {
        name: "Certificates",
        entity_type: "Certificate",
        table: "certificates",
        scope: "org_id = ?1 AND mode = 'live'",
        key: "Id",
        props: &[
            p("Id", "id", Edm::String),
            p("Kind", "kind", Edm::String),
            p("IssuedAt", "issued_at", Edm::DateTimeOffset),
            p("TotalKgCo2e", "total_kg_co2e", Edm::Decimal),
            p("ContentHash", "content_hash", Edm::String),
            p("FactorSetVersion", "factor_set_version", Edm::String),
            p("Revoked", "(revoked_at IS NOT NULL)", Edm::Boolean),
            p("RevokedAt", "revoked_at", Edm::DateTimeOffset),
        ],
    },
    EntitySet {
        name: "Assets",
        entity_type: "Asset",
        table: "assets",
        scope: "org_id = ?1 AND mode = 'live'",
        key: "DocumentId",
        props: &[
            p("DocumentId", "document_id", Edm::String),
            p("Source", "source", Edm::String),
            p("Manufacturer", "manufacturer", Edm::String),
            p("Model", "model", Edm::String),
            p("Serial", "serial", Edm::String),
            p("Category", "category", Edm::String),
            p("ProductId", "product_id", Edm::String),
            p("RamGb", "ram_gb", Edm::Decimal),
            p("StorageGb", "storage_gb", Edm::Decimal),
            p("ErasureStandard", "erasure_standard", Edm::String),
            p("ErasedAt", "erased_at", Edm::DateTimeOffset),
            p("AvoidedKgCo2e", "avoided_kg_co2e", Edm::Decimal),
            p("ImportedAt", "imported_at", Edm::DateTimeOffset),
        ],
    },
    EntitySet {
        name: "AuditLog",
        entity_type: "AuditEntry",
        table: "audit_log",
        scope: "org_id = ?1",
        key: "Seq",
        props: &[
            p("Seq", "seq", Edm::Int64),
            p("At", "at", Edm::DateTimeOffset),
            p("Actor", "actor", Edm::String),
            p("Action", "action", Edm::String),
            p("Target", "target", Edm::String),
            p("Details", "details", Edm::String),
            p("PrevHash", "prev_hash", Edm::String),
            p("Hash", "hash", Edm::String),
        ],
    },
];

pub fn set(name: &str) -> Option<&'static EntitySet> {
    SETS.iter().find(|s| s.name == name)
}

impl EntitySet {
    pub fn prop(&self, name: &str) -> Option<&'static Prop> {
        self.props.iter().find(|p| p.name == name)
    }
}

/// An error in OData's format, naming the option and position.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError {
    pub target: String,
    pub message: String,
}

impl QueryError {
    pub fn new(target: &str, message: impl Into<String>) -> QueryError {
        QueryError {
            target: target.into(),
            message: message.into(),
        }
    }
}

/// A SQL parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Number(f64),
}
