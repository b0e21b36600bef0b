from setuptools import find_packages, setup

setup(
    name="pinnkit",
    version="0.1.0",
    description="Physics-informed neural networks and operator learning in PyTorch",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["pinnkit", "pinnkit.*"]),
    python_requires=">=3.10",
    install_requires=[
        "torch>=2.1",
        "numpy>=1.24",
        "scipy>=1.15",  # scipy.stats.qmc engines with the `rng=` keyword
        "matplotlib>=3.7",
        "tqdm>=4.60",
        "torchdiffeq>=0.2.3",
        "torchsde>=0.2.6",
    ],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6.80", "ruff>=0.5", "deepxde>=1.11", "scikit-learn",
                 "conflictfree==0.1.8",  # ConFIG authors' package, the oracle of tests/optim (needs only torch)
                 "heavyball==3.2.1",  # an independent SOAP for tests/optim/test_soap.py (torch + opt_einsum)
                 "sphinx==9.0.4"],  # tests/test_docs_api.py reads the #: doc comments as the API reference does
        "bench": ["deepxde>=1.11", "scikit-learn"],
        "docs": ["sphinx==9.0.4", "furo==2025.12.19", "sphinx-gallery==0.22.1"],  # docs/: the versions it is built with
    },
    license="MIT",
)
