//! GraphQL mirrors of engine types: `mirror!` declares a `SimpleObject` with the same field
//! names as the engine struct and a `From<&EngineType>` that converts each field with
//! [`Conv`] (dates to the `Date` scalar, counts to `Int`, enums to their GraphQL twins).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::scalars::Date;

pub trait Conv<T> {
    fn conv(&self) -> T;
}

macro_rules! same {
    ($($t:ty),*) => {
        $(impl Conv<$t> for $t {
            fn conv(&self) -> $t {
                self.clone()
            }
        })*
    };
}
same!(f64, bool, String, Option<f64>, Option<String>);

impl Conv<i32> for u32 {
    fn conv(&self) -> i32 {
        i32::try_from(*self).unwrap_or(i32::MAX)
    }
}

impl Conv<i32> for usize {
    fn conv(&self) -> i32 {
        i32::try_from(*self).unwrap_or(i32::MAX)
    }
}

impl Conv<i32> for i32 {
    fn conv(&self) -> i32 {
        *self
    }
}

impl Conv<Option<f64>> for Option<i64> {
    fn conv(&self) -> Option<f64> {
        self.map(|v| v as f64)
    }
}

impl Conv<f64> for i64 {
    fn conv(&self) -> f64 {
        *self as f64
    }
}

impl Conv<Date> for NaiveDate {
    fn conv(&self) -> Date {
        Date(*self)
    }
}

impl Conv<Option<Date>> for Option<NaiveDate> {
    fn conv(&self) -> Option<Date> {
        self.map(Date)
    }
}

impl Conv<Vec<Option<f64>>> for [Option<f64>; 12] {
    fn conv(&self) -> Vec<Option<f64>> {
        self.to_vec()
    }
}

impl<A, B> Conv<Vec<B>> for Vec<A>
where
    for<'a> B: From<&'a A>,
{
    fn conv(&self) -> Vec<B> {
        self.iter().map(B::from).collect()
    }
}

/// A metric that is null for this return series, and why.
#[derive(async_graphql::SimpleObject, Clone, Debug)]
pub struct UndefinedMetric {
    /// The metric's field name in `BacktestMetrics` (`sharpe`, `calmar`, …).
    pub name: String,
    /// Why it is undefined, e.g. "zero variance or fewer than 2 returns".
    pub reason: String,
}

impl Conv<Vec<UndefinedMetric>> for BTreeMap<String, String> {
    fn conv(&self) -> Vec<UndefinedMetric> {
        self.iter()
            .map(|(name, reason)| UndefinedMetric {
                name: name.clone(),
                reason: reason.clone(),
            })
            .collect()
    }
}

/// `Conv` between an engine enum and its GraphQL twin (declared with `remote`).
macro_rules! enum_conv {
    ($($from:ty => $to:ty),* $(,)?) => {
        $(
            impl $crate::graphql::types::mirror::Conv<$to> for $from {
                fn conv(&self) -> $to {
                    <$to>::from(*self)
                }
            }
            impl $crate::graphql::types::mirror::Conv<Option<$to>> for Option<$from> {
                fn conv(&self) -> Option<$to> {
                    self.map(<$to>::from)
                }
            }
        )*
    };
}
pub(crate) use enum_conv;

macro_rules! mirror {
    (
        $(#[$meta:meta])*
        $name:ident from $src:ty {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(async_graphql::SimpleObject, Clone, Debug)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl From<&$src> for $name {
            fn from(source: &$src) -> Self {
                Self {
                    $( $field: $crate::graphql::types::mirror::Conv::conv(&source.$field), )*
                }
            }
        }
    };
}
pub(crate) use mirror;
