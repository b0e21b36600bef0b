"""One intra-op thread for the dynamics tests (tiny tensors; threads only add contention). Restored after."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
