"""consent-exerciser: measures consent and permission harassment in Android apps (MIIT categories 5-8)."""

from pathlib import Path

__version__ = "0.1.0"

# Project root holding models/, sample_apks/ and scenarios/ (the package is used from a checkout).
ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "models"
SAMPLES_DIR = ROOT / "sample_apks"
SCENARIOS_DIR = ROOT / "scenarios"
