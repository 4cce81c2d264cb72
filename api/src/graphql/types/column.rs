//! [`Column`]: a long list of leaf values (numbers, dates, statuses, flags) resolved in one
//! step. async-graphql resolves a `Vec<T>` item by item, one future and one path segment each,
//! which for the 224,000 cells of a 33-year daily table costs far more than writing them; a
//! `Column<T>` has the same GraphQL type as `Vec<T>` (`[Float]`, `[Date!]!`, …), so the schema
//! does not change, and converts its items directly.

use std::borrow::Cow;

use async_graphql::{
    ContextSelectionSet, InputType, OutputType, Positioned, ServerResult, Value,
    parser::types::Field, registry::Registry,
};

/// A list of leaf values, typed in the schema exactly as `Vec<T>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Column<T>(pub Vec<T>);

impl<T> From<Vec<T>> for Column<T> {
    fn from(values: Vec<T>) -> Self {
        Column(values)
    }
}

impl<T> FromIterator<T> for Column<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Column(iter.into_iter().collect())
    }
}

/// A leaf value (a scalar or an enum): its output needs no selection set.
pub trait Leaf {
    fn leaf_value(&self) -> Value;
}

/// A whole number goes out as an integer (`0`, `100000`: shorter, and cheaper to write than
/// `0.0`); GraphQL's `Float` accepts both forms.
fn number(v: f64) -> Value {
    match engine::whole_number(v) {
        Some(n) => Value::Number(n.into()),
        None => async_graphql::Number::from_f64(v).map_or(Value::Null, Value::Number),
    }
}

impl Leaf for f64 {
    fn leaf_value(&self) -> Value {
        number(*self)
    }
}

impl Leaf for Option<f64> {
    fn leaf_value(&self) -> Value {
        self.map_or(Value::Null, number)
    }
}

/// Scalars and enums whose input form is their output form.
macro_rules! leaf_as_input {
    ($($t:ty),+) => {$(
        impl Leaf for $t {
            fn leaf_value(&self) -> Value {
                InputType::to_value(self)
            }
        }
    )+};
}

leaf_as_input!(bool, crate::graphql::types::margin_enums::DayStatus);

impl Leaf for crate::graphql::types::scalars::Date {
    fn leaf_value(&self) -> Value {
        Value::String(self.iso())
    }
}

impl<T: OutputType + Leaf> OutputType for Column<T> {
    fn type_name() -> Cow<'static, str> {
        <Vec<T> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<T> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<T> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        _ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        Ok(Value::List(self.0.iter().map(Leaf::leaf_value).collect()))
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;
    use crate::graphql::types::{margin_enums::DayStatus, scalars::Date};

    struct Root;

    #[Object]
    impl Root {
        async fn numbers(&self) -> Column<Option<f64>> {
            Column(vec![Some(1.5), None, Some(-2.5)])
        }
        async fn dates(&self) -> Column<Date> {
            let day = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
            Column(vec![Date(day)])
        }
        async fn statuses(&self) -> Option<Column<DayStatus>> {
            Some(Column(vec![DayStatus::Holding, DayStatus::Liquidated]))
        }
        async fn vec_numbers(&self) -> Vec<Option<f64>> {
            vec![Some(1.5), None, Some(-2.5)]
        }
        async fn whole(&self) -> Column<f64> {
            Column(vec![0.0, 100_000.0, -0.0, 2.5])
        }
    }

    #[tokio::test]
    async fn a_column_is_typed_and_answers_like_a_vec() {
        let schema = Schema::new(Root, EmptyMutation, EmptySubscription);
        let sdl = schema.sdl();
        assert!(sdl.contains("numbers: [Float]!"), "{sdl}");
        assert!(sdl.contains("vecNumbers: [Float]!"), "{sdl}");
        assert!(sdl.contains("dates: [Date!]!"), "{sdl}");
        assert!(sdl.contains("statuses: [DayStatus!]"), "{sdl}");
        let response = schema
            .execute("{ numbers vecNumbers dates statuses whole }")
            .await
            .into_result()
            .expect("no errors");
        let data = response.data.into_json().unwrap();
        assert_eq!(data["numbers"], data["vecNumbers"]);
        assert_eq!(data["numbers"], serde_json::json!([1.5, null, -2.5]));
        let whole = serde_json::to_string(&data["whole"]).unwrap();
        assert_eq!(whole, "[0,100000,0,2.5]");
        assert_eq!(data["dates"], serde_json::json!(["2024-02-29"]));
        assert_eq!(
            data["statuses"],
            serde_json::json!(["HOLDING", "LIQUIDATED"])
        );
    }
}
