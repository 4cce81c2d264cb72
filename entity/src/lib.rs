//! sea-orm entities: one module per table, names kept from the product's Django apps.

pub mod api_token;
pub mod backtest_cache;
pub mod backtest_session;
pub mod invite_template;
pub mod invite_token;
pub mod legacy_calculation;
pub mod legacy_import_key;
pub mod legacy_saved_result;
pub mod login_attempt;
pub mod margin_calculation;
pub mod saved_backtest_result;
pub mod saved_result_tag;
pub mod stored_enums;
pub mod sweep_session;
pub mod user;
pub mod user_session;

pub mod prelude {
    pub use super::api_token::Entity as ApiToken;
    pub use super::backtest_cache::Entity as BacktestCache;
    pub use super::backtest_session::Entity as BacktestSession;
    pub use super::invite_template::Entity as InviteTemplate;
    pub use super::invite_token::Entity as InviteToken;
    pub use super::legacy_calculation::Entity as LegacyCalculation;
    pub use super::legacy_import_key::Entity as LegacyImportKey;
    pub use super::legacy_saved_result::Entity as LegacySavedResult;
    pub use super::login_attempt::Entity as LoginAttempt;
    pub use super::margin_calculation::Entity as MarginCalculation;
    pub use super::saved_backtest_result::Entity as SavedBacktestResult;
    pub use super::saved_result_tag::Entity as SavedResultTag;
    pub use super::sweep_session::Entity as SweepSession;
    pub use super::user::Entity as User;
    pub use super::user_session::Entity as UserSession;
}
