//! The map-image reader: any bytes are read or refused, never a panic; what reads back
//! writes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = lvsc_xdp_image::image::Image::from_bytes(data) {
        assert_eq!(img.to_bytes(), data, "a read image writes back differently");
        let _ = img.describe();
    }
});
