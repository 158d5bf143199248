//! The Temporary Access Pass file: the password in `TAPPolicyPass.txt` inside a WinZip-AES
//! (AES-256) encrypted, deflated zip named `TAPPolicyInfo.zip`, as the reference returns it.

use std::io::{Cursor, Write};

use soar_integration_kit::Secret;
use zip::write::SimpleFileOptions;
use zip::{AesMode, CompressionMethod, ZipWriter};

/// The file name of the zip entry returned to the War Room.
pub const ZIP_NAME: &str = "TAPPolicyInfo.zip";
/// The name of the one file inside the zip.
pub const INNER_NAME: &str = "TAPPolicyPass.txt";

/// Builds the encrypted zip in memory. Errors name what failed, never the secrets.
pub fn encrypted_zip(tap_password: &Secret, zip_password: &Secret) -> Result<Vec<u8>, String> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .with_aes_encryption(AesMode::Aes256, zip_password.expose());
    writer
        .start_file(INNER_NAME, options)
        .map_err(|e| format!("Could not generate zip file. Error:\n{e}"))?;
    writer
        .write_all(tap_password.expose().as_bytes())
        .map_err(|e| format!("Could not generate zip file. Error:\n{e}"))?;
    let cursor = writer.finish().map_err(|e| format!("Could not generate zip file. Error:\n{e}"))?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn zip_opens_with_the_password_only_and_holds_the_tap() {
        let bytes = encrypted_zip(&Secret::new("TAP-canary-1"), &Secret::new("zip-pw")).unwrap();
        // The plain text must not be visible in the archive bytes.
        assert!(!bytes.windows(12).any(|w| w == b"TAP-canary-1"));
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert!(archive.by_name_decrypt(INNER_NAME, b"wrong").is_err());
        let mut file = archive.by_name_decrypt(INNER_NAME, b"zip-pw").unwrap();
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        assert_eq!(text, "TAP-canary-1");
    }
}
