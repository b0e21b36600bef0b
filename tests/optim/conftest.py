"""One intra-op thread for the optimizer tests: their tensors are tiny (no gain from threads), and on a busy
machine idle-spinning OpenMP threads made them several times slower. Restored after each test."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
