//! `cargo xtask bundle loadline --release` writes `target/bundled/Loadline.{vst3,clap}`.
fn main() -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::main()
}
