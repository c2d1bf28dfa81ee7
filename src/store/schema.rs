//! The columns of `summary.csv`, one definition for the writer (the exports) and every reader
//! (`linres diff` on committed tables, typed exports): each column's name, the type of its values
//! and how two of its cells are compared.
//!
//! A row holds the run id, the grid's parameter columns ([`param_columns`]), then
//! [`SummaryColumn::CSV`]. Every cell is written by the measures layer's notation: numbers in
//! shortest round-trip form, `inf` for +∞ (a target never reached, the final excess of a diverged
//! run), an empty cell for a value the run does not have.
//!
//! `summary.parquet` holds the same rows with every column typed ([`SummaryColumn::column_type`],
//! [`SummaryColumn::nullable`]), and also the theory quantities that `summary.csv` predates
//! ([`SummaryColumn::ALL`]): the committed `summary.csv` tables are compared with fresh ones by
//! `linres diff`, so their columns stay as they are.

/// The descriptive fields every summary shows first, then every other axis of the grid, then
/// `seed`.
pub const DESCRIPTIVE: [&str; 8] = [
    "data.kind",
    "model.arch",
    "model.depth",
    "model.width",
    "model.transform",
    "optim.method",
    "optim.batch",
    "optim.iters",
];

/// The parameter columns of a grid with these axes.
pub fn param_columns(axes: &[String]) -> Vec<String> {
    let mut cols: Vec<String> = DESCRIPTIVE.iter().map(|s| s.to_string()).collect();
    cols.extend(axes.iter().filter(|a| !DESCRIPTIVE.contains(&a.as_str())).cloned());
    cols
}

/// The type of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Integer,
    Float,
    Bool,
    Text,
}

/// How two cells of a column are compared (`linres diff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// Equal text (integers, names).
    Exact,
    /// Numbers within the relative tolerance, measured against 1e-6 of the scale of the run's
    /// loss curves below it.
    Loss,
    /// Numbers within the relative tolerance, measured against 1e-6 below it (relative excess).
    Relative,
    /// Numbers within the relative tolerance.
    Number,
    /// Not compared (an error message may name the machine).
    Informative,
}

/// The measured columns of `summary.csv`, after the parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SummaryColumn {
    Status,
    Engine,
    ReducedDim,
    Eta,
    Loss0,
    Excess0,
    FinalIter,
    FinalExcess,
    FinalRelExcess,
    ItersToTarget,
    Target,
    DivergedAt,
    StoppedAt,
    Rank,
    SigmaMax,
    SigmaR,
    Kappa,
    StableRank,
    LStar,
    ZouMargin,
    ZouEtaBracket,
    ZouRho,
    ZouItersToTarget,
    ZouCovered,
    DuHuWidthRequired,
    DuHuMargin,
    DuHuFactor,
    MZou,
    MDuHu,
    Error,
    /// η over the Zou step bracket (`summary.parquet` only).
    ZouEtaOverBracket,
    /// The linearised per-step factor (`summary.parquet` only).
    LinFactor,
    /// Iterations Du & Hu's bound needs to reach the target (`summary.parquet` only).
    DuHuItersBound,
}

impl SummaryColumn {
    /// The columns of `summary.csv`, in file order.
    pub const CSV: [SummaryColumn; 30] = [
        SummaryColumn::Status,
        SummaryColumn::Engine,
        SummaryColumn::ReducedDim,
        SummaryColumn::Eta,
        SummaryColumn::Loss0,
        SummaryColumn::Excess0,
        SummaryColumn::FinalIter,
        SummaryColumn::FinalExcess,
        SummaryColumn::FinalRelExcess,
        SummaryColumn::ItersToTarget,
        SummaryColumn::Target,
        SummaryColumn::DivergedAt,
        SummaryColumn::StoppedAt,
        SummaryColumn::Rank,
        SummaryColumn::SigmaMax,
        SummaryColumn::SigmaR,
        SummaryColumn::Kappa,
        SummaryColumn::StableRank,
        SummaryColumn::LStar,
        SummaryColumn::ZouMargin,
        SummaryColumn::ZouEtaBracket,
        SummaryColumn::ZouRho,
        SummaryColumn::ZouItersToTarget,
        SummaryColumn::ZouCovered,
        SummaryColumn::DuHuWidthRequired,
        SummaryColumn::DuHuMargin,
        SummaryColumn::DuHuFactor,
        SummaryColumn::MZou,
        SummaryColumn::MDuHu,
        SummaryColumn::Error,
    ];

    /// Every column, in the order of `summary.parquet`: those of `summary.csv`, then the theory
    /// quantities it predates.
    pub const ALL: [SummaryColumn; 33] = {
        let mut all = [SummaryColumn::Error; 33];
        let mut i = 0;
        while i < SummaryColumn::CSV.len() {
            all[i] = SummaryColumn::CSV[i];
            i += 1;
        }
        all[30] = SummaryColumn::ZouEtaOverBracket;
        all[31] = SummaryColumn::LinFactor;
        all[32] = SummaryColumn::DuHuItersBound;
        all
    };

    /// The column's header.
    pub fn name(self) -> &'static str {
        match self {
            SummaryColumn::Status => "status",
            SummaryColumn::Engine => "engine",
            SummaryColumn::ReducedDim => "reduced_dim",
            SummaryColumn::Eta => "eta",
            SummaryColumn::Loss0 => "loss0",
            SummaryColumn::Excess0 => "excess0",
            SummaryColumn::FinalIter => "final_iter",
            SummaryColumn::FinalExcess => "final_excess",
            SummaryColumn::FinalRelExcess => "final_rel_excess",
            SummaryColumn::ItersToTarget => "iters_to_target",
            SummaryColumn::Target => "target",
            SummaryColumn::DivergedAt => "diverged_at",
            SummaryColumn::StoppedAt => "stopped_at",
            SummaryColumn::Rank => "rank",
            SummaryColumn::SigmaMax => "sigma_max",
            SummaryColumn::SigmaR => "sigma_r",
            SummaryColumn::Kappa => "kappa",
            SummaryColumn::StableRank => "stable_rank",
            SummaryColumn::LStar => "l_star",
            SummaryColumn::ZouMargin => "zou_margin",
            SummaryColumn::ZouEtaBracket => "zou_eta_bracket",
            SummaryColumn::ZouRho => "zou_rho",
            SummaryColumn::ZouItersToTarget => "zou_iters_to_target",
            SummaryColumn::ZouCovered => "zou_covered",
            SummaryColumn::DuHuWidthRequired => "du_hu_width_required",
            SummaryColumn::DuHuMargin => "du_hu_margin",
            SummaryColumn::DuHuFactor => "du_hu_factor",
            SummaryColumn::MZou => "m_zou",
            SummaryColumn::MDuHu => "m_du_hu",
            SummaryColumn::Error => "error",
            SummaryColumn::ZouEtaOverBracket => "zou_eta_over_bracket",
            SummaryColumn::LinFactor => "lin_factor",
            SummaryColumn::DuHuItersBound => "du_hu_iters_bound",
        }
    }

    /// The column named `name`, if it is one of these.
    pub fn named(name: &str) -> Option<SummaryColumn> {
        SummaryColumn::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The type of the column's values.
    pub fn column_type(self) -> ColumnType {
        use SummaryColumn::*;
        match self {
            Status | Engine | Error => ColumnType::Text,
            ReducedDim | FinalIter | DivergedAt | StoppedAt | Rank => ColumnType::Integer,
            ZouCovered => ColumnType::Bool,
            Eta | Loss0 | Excess0 | FinalExcess | FinalRelExcess | ItersToTarget | Target | SigmaMax | SigmaR
            | Kappa | StableRank | LStar | ZouMargin | ZouEtaBracket | ZouRho | ZouItersToTarget
            | DuHuWidthRequired | DuHuMargin | DuHuFactor | MZou | MDuHu | ZouEtaOverBracket | LinFactor
            | DuHuItersBound => ColumnType::Float,
        }
    }

    /// Whether a row may have no value in the column: every run has a status; a failed run has
    /// nothing else measured, and a result has no error.
    pub fn nullable(self) -> bool {
        self != SummaryColumn::Status
    }

    /// How two cells of the column are compared.
    pub fn comparison(self) -> Comparison {
        use SummaryColumn::*;
        match self {
            Error => Comparison::Informative,
            Loss0 | Excess0 | FinalExcess | LStar => Comparison::Loss,
            FinalRelExcess => Comparison::Relative,
            // An iteration count or ∞: equal text.
            ItersToTarget => Comparison::Exact,
            _ => match self.column_type() {
                ColumnType::Float => Comparison::Number,
                ColumnType::Integer | ColumnType::Bool | ColumnType::Text => Comparison::Exact,
            },
        }
    }
}

/// How the cells of any column of a summary (a parameter column too) are compared: `seed` and
/// integer columns exactly, parameter values as numbers when both cells are numbers.
pub fn comparison_of(column: &str) -> Comparison {
    match (column, SummaryColumn::named(column)) {
        (_, Some(c)) => c.comparison(),
        ("seed", None) => Comparison::Exact,
        _ => Comparison::Number,
    }
}
