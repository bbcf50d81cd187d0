//! Loadline as a standalone program (`--backend dummy` runs without audio hardware). Built only
//! with `--features standalone`.

fn main() {
    nice_plug::nice_export_standalone::<loadline::plugin::Loadline>();
}
