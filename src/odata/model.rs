//! The feed's entity model: each entity set, its key and its properties with the EDM type of
//! each; and the errors a query yields. Shared by the query parser (`odata::filter`, `odata`)
//! and the store, which alone knows where each set and property is stored (`store::odata`).

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

/// A property: its OData name and EDM type (where it is stored: `store::odata`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prop {
    pub name: &'static str,
    pub edm: Edm,
}

/// An entity set: rows of one organisation (which table and columns: `store::odata`).
#[derive(Debug)]
pub struct EntitySet {
    pub name: &'static str,
    pub entity_type: &'static str,
    pub key: &'static str,
    pub props: &'static [Prop],
}

const fn p(name: &'static str, edm: Edm) -> Prop {
    Prop { name, edm }
}

pub const SETS: &[EntitySet] = &[
    EntitySet {
        name: "Calculations",
        entity_type: "Calculation",
        key: "Id",
        props: &[
            p("Id", Edm::String),
            p("CalculatedAt", Edm::DateTimeOffset),
            p("Category", Edm::String),
            p("ProductId", Edm::String),
            p("Source", Edm::String),
            p("ProductionKgCo2e", Edm::Decimal),
            p("TransportKgCo2e", Edm::Decimal),
            p("UseKgCo2e", Edm::Decimal),
            p("EndOfLifeKgCo2e", Edm::Decimal),
            p("TotalKgCo2e", Edm::Decimal),
            p("FactorSetVersion", Edm::String),
        ],
    },
    EntitySet {
        name: "Certificates",
        entity_type: "Certificate",
        key: "Id",
        props: &[
            p("Id", Edm::String),
            p("Kind", Edm::String),
            p("IssuedAt", Edm::DateTimeOffset),
            p("TotalKgCo2e", Edm::Decimal),
            p("ContentHash", Edm::String),
            p("FactorSetVersion", Edm::String),
            p("Revoked", Edm::Boolean),
            p("RevokedAt", Edm::DateTimeOffset),
        ],
    },
    EntitySet {
        name: "Assets",
        entity_type: "Asset",
        key: "DocumentId",
        props: &[
            p("DocumentId", Edm::String),
            p("Source", Edm::String),
            p("Manufacturer", Edm::String),
            p("Model", Edm::String),
            p("Serial", Edm::String),
            p("Category", Edm::String),
            p("ProductId", Edm::String),
            p("RamGb", Edm::Decimal),
            p("StorageGb", Edm::Decimal),
            p("ErasureStandard", Edm::String),
            p("ErasedAt", Edm::DateTimeOffset),
            p("AvoidedKgCo2e", Edm::Decimal),
            p("ImportedAt", Edm::DateTimeOffset),
        ],
    },
    EntitySet {
        name: "AuditLog",
        entity_type: "AuditEntry",
        key: "Seq",
        props: &[
            p("Seq", Edm::Int64),
            p("At", Edm::DateTimeOffset),
            p("Actor", Edm::String),
            p("Action", Edm::String),
            p("Target", Edm::String),
            p("Details", Edm::String),
            p("PrevHash", Edm::String),
            p("Hash", Edm::String),
        ],
    },
    EntitySet {
        name: "InventoryAssets",
        entity_type: "InventoryAsset",
        key: "Id",
        props: &[
            p("Id", Edm::String),
            p("Serial", Edm::String),
            p("AssetTag", Edm::String),
            p("Name", Edm::String),
            p("Category", Edm::String),
            p("ProductId", Edm::String),
            p("PurchaseDate", Edm::String),
            p("RetiredDate", Edm::String),
            p("EndOfLife", Edm::String),
            p("Ownership", Edm::String),
            p("Country", Edm::String),
            p("ProductionKgCo2e", Edm::Decimal),
            p("TransportKgCo2e", Edm::Decimal),
            p("UseKgCo2ePerYear", Edm::Decimal),
            p("EndOfLifeKgCo2e", Edm::Decimal),
            p("Source", Edm::String),
            p("FactorSetVersion", Edm::String),
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
