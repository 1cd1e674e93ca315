"""vision.preprocess and vision.decode against hand-computed pixels and tensors (no model)."""

import numpy as np
import pytest
from PIL import Image

from vision.decode import as_rgb, load_image
from vision.preprocess import center_crop_box, preprocess, resized_size

# torchvision's ImageNet statistics, typed in from its documentation.
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((500, 300), (426, 256)),  # 256 * 500 / 300 = 426.67, truncated
        ((300, 500), (256, 426)),
        ((256, 256), (256, 256)),
        ((1000, 2000), (256, 512)),
        ((640, 427), (383, 256)),  # 256 * 640 / 427 = 383.70
    ],
)
def test_resized_size_scales_the_shorter_side_to_256_and_truncates_the_longer(size, expected):
    assert resized_size(*size) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((224, 224), (0, 0, 224, 224)),
        ((256, 300), (16, 38, 240, 262)),  # (256-224)/2 = 16, (300-224)/2 = 38
        ((257, 256), (16, 16, 240, 240)),  # round(16.5) = 16: half to even, as torchvision
        ((259, 256), (18, 16, 242, 240)),  # round(17.5) = 18
    ],
)
def test_center_crop_box_rounds_like_torchvision(size, expected):
    assert center_crop_box(*size) == expected


def test_constant_colour_gives_the_hand_computed_tensor():
    image = Image.new("RGB", (400, 300), (255, 0, 128))
    tensor = preprocess(image)
    assert tensor.shape == (3, 224, 224)
    assert tensor.dtype == np.float32
    # (1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (128/255 - 0.406) / 0.225
    for channel, value in enumerate([2.2489083, -2.0357143, 0.4264924]):
        np.testing.assert_allclose(tensor[channel], value, rtol=1e-6)


def test_crop_takes_the_centre_pixels_in_nchw_order():
    # 256 x 300 needs no resize (shorter side already 256, 256 * 300 / 256 = 300),
    # so the tensor must be rows 38..261 and columns 16..239 of the array, normalised.
    y, x = np.mgrid[0:300, 0:256]
    pixels = np.stack([x % 256, y % 256, (x + 2 * y) % 256], axis=-1).astype(np.uint8)
    tensor = preprocess(Image.fromarray(pixels))
    expected = (pixels[38:262, 16:240] / 255.0 - MEAN) / STD  # (224, 224, 3)
    np.testing.assert_allclose(tensor, expected.transpose(2, 0, 1), atol=1e-6)


def test_downscaling_is_antialiased():
    # Columns repeat 255, 0, 0, 0. Shrinking 1024 -> 256 with a bilinear (triangle) filter
    # as wide as the period averages the four columns equally: 255 / 4 = 63.75 -> 64.
    # Point-sampling bilinear (no antialiasing) would read columns 1 and 2 only: 0.
    row = np.tile(np.array([255, 0, 0, 0], dtype=np.uint8), 256)
    pixels = np.repeat(np.repeat(row[np.newaxis, :, np.newaxis], 1024, axis=0), 3, axis=2)
    tensor = preprocess(Image.fromarray(pixels))
    grey_64 = (64 / 255 - MEAN) / STD
    for channel in range(3):
        np.testing.assert_allclose(tensor[channel], grey_64[channel], atol=1.5 / 255 / 0.224)


def test_preprocess_refuses_non_rgb():
    with pytest.raises(ValueError, match="RGB"):
        preprocess(Image.new("L", (300, 300)))


@pytest.mark.parametrize(
    ("image", "expected_rgb"),
    [
        (Image.new("L", (8, 8), 100), (100, 100, 100)),
        (Image.new("1", (8, 8), 1), (255, 255, 255)),
        (Image.new("LA", (8, 8), (100, 255)), (100, 100, 100)),
        (Image.new("LA", (8, 8), (100, 0)), (255, 255, 255)),  # fully transparent -> white
        # 255 * (1 - 128/255) = 127 over white where the colour is 0
        (Image.new("RGBA", (8, 8), (255, 0, 0, 128)), (255, 127, 127)),
        (Image.fromarray(np.full((8, 8), 32896, np.uint16)), (128, 128, 128)),  # 32896/257
        (Image.fromarray(np.full((8, 8), 65535, np.uint16)), (255, 255, 255)),
    ],
    ids=["L", "1", "LA-opaque", "LA-transparent", "RGBA-half", "I16-mid", "I16-max"],
)
def test_as_rgb_converts_modes_to_the_hand_computed_colour(image, expected_rgb):
    rgb = as_rgb(image)
    assert rgb.mode == "RGB"
    np.testing.assert_allclose(np.asarray(rgb)[4, 4], expected_rgb, atol=1)


def test_palette_transparency_is_composited_on_white():
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    image.putpixel((1, 1), 1)
    image.info["transparency"] = 0  # palette entry 0 (black) is transparent
    pixels = np.asarray(as_rgb(image))
    assert tuple(pixels[0, 0]) == (255, 255, 255)
    assert tuple(pixels[1, 1]) == (200, 10, 10)


def test_sixteen_bit_png_file_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "grey16.png"
    Image.fromarray(np.full((300, 300), 32896, np.uint16)).save(path)
    assert Image.open(path).mode.startswith("I")  # really stored as 16-bit
    assert tuple(np.asarray(load_image(str(path)))[0, 0]) == (128, 128, 128)


def test_cmyk_jpeg_is_converted(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (300, 300), (0, 255, 255, 0)).save(path, quality=95)
    # C=0, M=255, Y=255, K=0 is red: R = 255 - C - K, G = 255 - M - K, B = 255 - Y - K
    np.testing.assert_allclose(np.asarray(load_image(str(path)))[150, 150], (255, 0, 0), atol=3)


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((300, 400, 3), np.uint8)
    pixels[:, :200] = (255, 0, 0)  # stored left half red
    pixels[:, 200:] = (0, 0, 255)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # Orientation 6: rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif, quality=95)
    upright = load_image(str(path))
    # Turned clockwise, the stored left edge becomes the top: 300 wide, 400 tall, red on top.
    assert upright.size == (300, 400)
    np.testing.assert_allclose(np.asarray(upright)[50, 150], (255, 0, 0), atol=4)
    np.testing.assert_allclose(np.asarray(upright)[350, 150], (0, 0, 255), atol=4)


def test_large_jpeg_is_drafted_but_not_below_the_resize_target(tmp_path):
    path = tmp_path / "large.jpg"
    Image.new("RGB", (2048, 1536), (10, 200, 30)).save(path)
    # min(2048 // 342, 1536 // 256) = 5 -> JPEG scale 1/4 -> 512 x 384 (shorter side >= 256).
    assert load_image(str(path)).size == (512, 384)
    small_path = tmp_path / "small.jpg"
    Image.new("RGB", (500, 300)).save(small_path)
    assert load_image(str(small_path)).size == (500, 300)
