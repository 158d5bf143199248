//! `cargo xtask pack <integration> | --all` and `cargo xtask pack-check`: a Cortex XSOAR
//! content pack per integration, in demisto-sdk's layout, under `target/packs/` (not checked
//! in).
//!
//! Per integration folder `integrations/<prefix>/` with its generated `<Name>.yml`, the pack is
//! `target/packs/Packs/<Name>/`:
//!
//! - `pack_metadata.json`: the YAML's `display` and `description`, its `category`, support
//!   `community`, author `soar-rt`, version `1.0.0`, both marketplaces;
//! - `Integrations/<Name>/<Name>.yml`: the generated YAML with `script.script: ''` (the code
//!   lives in the `.py`, as demisto-sdk's split layout has it);
//! - `Integrations/<Name>/<Name>.py`: the shim `xtask/pack/shim.py` with the names substituted;
//! - `Integrations/<Name>/<Name>_description.md`: the YAML's `detaileddescription`;
//! - `Integrations/<Name>/<Name>_image.png`: a 120x50 solid PNG made here;
//! - `Integrations/<Name>/README.md`: the generated README.
//!
//! Beside the packs, `target/packs/docker/<prefix>/Dockerfile` is `xtask/pack/Dockerfile` with
//! the binary's name set, for the image the YAML's `dockerimage` names.
//!
//! Decision: the pack is made from the checked-in YAML and README (which `codegen --check`
//! keeps current) rather than from the binaries, so `pack` needs no build. The YAML is edited
//! as text (one line) so that it stays byte-for-byte what codegen wrote elsewhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::json;

const SHIM: &str = include_str!("../pack/shim.py");
const DOCKERFILE: &str = include_str!("../pack/Dockerfile");
/// The `script:` line codegen writes (the YAML carries no code: the binary is the code).
const GENERATED_SCRIPT_LINE: &str = "\n  script: '-'\n";
const PACK_SCRIPT_LINE: &str = "\n  script: ''\n";

/// `cargo xtask pack <integration>...` or `--all`.
pub fn main(args: &[String]) -> anyhow::Result<()> {
    let root = crate::codegen::workspace_root();
    let names = if args.iter().any(|a| a == "--all") {
        crate::integrations::names(&root)?
    } else if args.is_empty() {
        bail!("usage: cargo xtask pack <integration>... | --all");
    } else {
        args.to_vec()
    };
    let out = packs_dir(&root);
    for name in &names {
        let pack = write_pack(&root, name, &out)?;
        eprintln!("pack    {}", pack.strip_prefix(&root).unwrap_or(&pack).display());
    }
    Ok(())
}

/// `target/packs` (under `CARGO_TARGET_DIR` when set).
fn packs_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from).join("packs")
}

/// The integration's generated YAML: the one `.yml` in its folder.
fn yaml_of(dir: &Path) -> anyhow::Result<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "yml") {
            found.push(path);
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => bail!("expected one generated .yml in {}, found {}", dir.display(), found.len()),
    }
}

/// Writes one integration's pack and its Dockerfile; returns the pack's folder.
fn write_pack(root: &Path, name: &str, out: &Path) -> anyhow::Result<PathBuf> {
    let dir = root.join("integrations").join(name);
    if !dir.join("Cargo.toml").is_file() {
        bail!("no integration `{name}` (no integrations/{name}/Cargo.toml)");
    }
    let yaml_path = yaml_of(&dir)?;
    let stem = yaml_path
        .file_stem()
        .and_then(|s| s.to_str())
        .with_context(|| format!("a file name for {}", yaml_path.display()))?
        .to_owned();
    let text = std::fs::read_to_string(&yaml_path)?;
    let yaml: serde_json::Value =
        serde_norway::from_str(&text).with_context(|| format!("parsing {}", yaml_path.display()))?;
    let field = |key: &str| yaml.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    if !text.contains(GENERATED_SCRIPT_LINE) {
        bail!("{} has no `script: '-'` line under `script:`", yaml_path.display());
    }
    let pack_yaml = text.replacen(GENERATED_SCRIPT_LINE, PACK_SCRIPT_LINE, 1);

    let pack = out.join("Packs").join(&stem);
    let integ = pack.join("Integrations").join(&stem);
    // A fresh folder each time, so a file dropped from the layout does not linger.
    if pack.exists() {
        std::fs::remove_dir_all(&pack)?;
    }
    std::fs::create_dir_all(&integ)?;
    let metadata = json!({
        "name": field("display"),
        "description": field("description"),
        "support": "community",
        "currentVersion": "1.0.0",
        "author": "soar-rt",
        "url": "",
        "email": "",
        "categories": [field("category")],
        "tags": [],
        "useCases": [],
        "keywords": [],
        "marketplaces": ["xsoar", "marketplacev2"],
    });
    let write = |path: PathBuf, bytes: &[u8]| {
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
    };
    write(
        pack.join("pack_metadata.json"),
        format!("{}\n", serde_json::to_string_pretty(&metadata)?).as_bytes(),
    )?;
    write(integ.join(format!("{stem}.yml")), pack_yaml.as_bytes())?;
    let shim = SHIM.replace("{{NAME}}", &stem).replace("{{BINARY}}", name);
    write(integ.join(format!("{stem}.py")), shim.as_bytes())?;
    write(integ.join(format!("{stem}_description.md")), field("detaileddescription").as_bytes())?;
    write(integ.join(format!("{stem}_image.png")), &solid_png(120, 50, [0x1f, 0x4e, 0x79]))?;
    let readme = std::fs::read(dir.join("README.md")).context("reading the generated README")?;
    write(integ.join("README.md"), &readme)?;

    let docker = out.join("docker").join(name);
    std::fs::create_dir_all(&docker)?;
    write(docker.join("Dockerfile"), DOCKERFILE.replace("{{BINARY}}", name).as_bytes())?;
    Ok(pack)
}

/// A PNG of one colour: 8-bit RGB, the image data in zlib "stored" (uncompressed) blocks.
pub fn solid_png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    // Each scanline: filter byte 0 (none), then the pixels.
    let pixels = usize::try_from(width).unwrap_or(0) * 3;
    let row: Vec<u8> = std::iter::once(0).chain(rgb.iter().copied().cycle().take(pixels)).collect();
    let raw = row.repeat(usize::try_from(height).unwrap_or(0));
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // depth 8, colour type RGB, deflate, filter 0, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

/// One chunk: length, type, data, CRC-32 of type and data.
fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    png.extend_from_slice(&len.to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream (RFC 1950) of deflate stored blocks (RFC 1951 section 3.2.4).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01]; // deflate, 32K window, no preset dictionary; 0x7801 % 31 == 0
    let blocks: Vec<&[u8]> = data.chunks(0xffff).collect();
    if blocks.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len())); // BFINAL on the last, BTYPE 00
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), bit by bit: the PNG is small.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Adler-32 (RFC 1950).
fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// `cargo xtask pack-check`: `pack --all`, the shim tests against the debug binaries, and every
/// pack YAML through demisto-sdk's integration schema (the `validate-yaml` check).
pub fn check() -> anyhow::Result<()> {
    let root = crate::codegen::workspace_root();
    main(&["--all".to_owned()])?;
    // The shim tests run the real binaries; building their manifests builds them (debug).
    crate::integrations::manifests(&root)?;
    let bins =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from).join("debug");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let status = Command::new(&python)
        .arg(root.join("xtask/pack/test_shim.py"))
        .env("SOAR_TEST_BIN_DIR", &bins)
        .env("SOAR_TEST_PACKS_DIR", packs_dir(&root))
        .status()
        .with_context(|| format!("running {python} xtask/pack/test_shim.py"))?;
    if !status.success() {
        bail!("the shim tests failed");
    }
    let mut yamls = Vec::new();
    let packs = packs_dir(&root).join("Packs");
    for pack in std::fs::read_dir(&packs).with_context(|| format!("reading {}", packs.display()))? {
        let integrations = pack?.path().join("Integrations");
        for integ in std::fs::read_dir(&integrations)? {
            let integ = integ?.path();
            yamls.push(yaml_of(&integ)?);
        }
    }
    yamls.sort();
    crate::validate_yaml::validate_files(&root, &yamls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_and_adler32_match_their_published_check_values() {
        // The standard check input "123456789" (CRC catalogue; RFC 1950's Adler-32).
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn the_png_has_its_header_and_size() {
        let png = solid_png(120, 50, [1, 2, 3]);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes([png[16], png[17], png[18], png[19]]), 120);
        assert_eq!(u32::from_be_bytes([png[20], png[21], png[22], png[23]]), 50);
        assert!(png.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]));
    }

    #[test]
    fn large_images_split_into_stored_blocks_of_at_most_65535_bytes() {
        let z = zlib_stored(&vec![7u8; 70_000]);
        // header 2 + (5 + 65535) + (5 + 4465) + adler 4
        assert_eq!(z.len(), 2 + 5 + 65_535 + 5 + 4_465 + 4);
        assert_eq!(z[2], 0, "the first block is not final");
        assert_eq!(z[2 + 5 + 65_535], 1, "the second block is final");
    }
}
