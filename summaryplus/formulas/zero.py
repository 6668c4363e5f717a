"""Which ops are known to do no multiply-accumulates.

An op without a formula is either one of these (elementwise, views, data
movement, reductions, normalisation, pooling, indexing, random numbers) or it is
reported as *uncounted*, so a missing formula is never silently a zero.
"""

from __future__ import annotations

import re
from functools import cache

import torch
from torch._ops import OpOverload

# Families of op names, one pattern each, rather than a list of every overload.
_ZERO_MAC_FAMILIES = (
    r"(_?native_|cudnn_|miopen_|mkldnn_)?(batch|layer|group|instance|rms)_norm.*",
    r"_native_batch_norm_legit.*",
    # Weight-packing ops only reorder bytes (the packed matmuls have formulas).
    r"_weight_norm\w*|_convert_weight_to_int4pack\w*|_convert_weight_to_int4pack_for_cpu",
    r"_batch_norm_.*",
    r".*(soft|sparse|log_soft)max.*",
    r".*pool\d?d.*",
    r"(adaptive_)?max_unpool.*",
    r"_?embedding(_bag|_renorm|_backward|_dense_backward)?",
    r"_embedding_bag.*",
    r"(index|gather|scatter|take|put|masked|nonzero|where|searchsorted|bucketize).*",
    r"_?index_put.*|_unsafe_index.*|unsafe_(split|chunk)\w*",
    r"(cat|stack|split|chunk|unbind|narrow|slice|select|expand|repeat|tile|roll|flip)\w*",
    r"(_unsafe_)?(view|reshape)\w*|as_strided\w*|alias\w*|_reshape_alias\w*",
    r"(t|transpose|permute|squeeze|unsqueeze|flatten|unflatten|movedim|diagonal)(_|_copy)?",
    r"(squeeze|unsqueeze|transpose|diagonal)_\w*",
    r"(clone|copy|contiguous|_to_copy|to|detach|lift_fresh|lift_fresh_copy|resize)_?\w*",
    r"(_?empty|zeros|ones|full|fill|zero|arange|linspace|logspace|eye|scalar_tensor)\w*",
    r"(new_)\w*|_local_scalar_dense|item|_assert\w*|sym_\w*|set_?",
    r"(rand|randn|randint|randperm|bernoulli|normal|uniform|multinomial)\w*",
    r"_?(native_|fused_)?dropout\w*|_fused_dropout|feature_dropout\w*",
    r"(sum|mean|prod|var|std|var_mean|std_mean|norm|linalg_vector_norm|logsumexp)\w*",
    r"(max|min|amax|amin|aminmax|argmax|argmin|any|all|count_nonzero|median|mode)\w*",
    r"(cumsum|cumprod|cummax|cummin|logcumsumexp|sort|argsort|topk|kthvalue|unique)\w*",
    r"_unique2?|unique_consecutive|histc|bincount|tril\w*|triu\w*|_is_(all|any)_true",
    r"(constant_|reflection_|replication_|circular_)?pad\w*|_pad_\w*",
    r"(upsample|_upsample)\w*|grid_sampler\w*|affine_grid\w*|im2col|col2im",
    r"(pixel_shuffle|pixel_unshuffle|channel_shuffle|native_channel_shuffle)\w*",
    r"(eq|ne|lt|le|gt|ge|isnan|isinf|isfinite|logical_\w+|bitwise_\w+|equal|allclose)",
    # Elementwise ops that lack torch's pointwise tag (MoE routers use them).
    r"(floor_divide|true_divide|remainder|fmod|isin|isneginf|isposinf|signbit|heaviside)_?",
    r"(cross_entropy|nll_loss|mse_loss|l1_loss|smooth_l1_loss|huber_loss|kl_div|"
    r"binary_cross_entropy|soft_margin_loss|margin_ranking_loss)\w*",
    r"_pack_padded_sequence\w*|_pad_packed_sequence|_nested\w*|_to_dense|_to_sparse\w*",
    r"(threshold|hardtanh|leaky_relu|gelu|silu|mish|elu|glu|hardswish|hardsigmoid|"
    r"softplus|rrelu|prelu|_prelu_kernel|log_sigmoid|sigmoid|tanh|relu)\w*",
    r"_foreach_(?!mm$)\w+|_amp_\w+|_fused_adam\w*|_fused_sgd\w*",
    # (logdet is a determinant: an LU, counted through its parts.)
    r"(lerp|addcmul|addcdiv|clamp|clip|sign|abs|neg|reciprocal|rsqrt|sqrt|pow|exp|log(?!det))\w*",
    # Linear algebra without products: a 3-vector cross product (elementwise),
    # sums of powers (norms), the check of a factorization's info codes.
    r"linalg_cross|cross|linalg__powsum|_linalg_check_errors|lu_unpack",
    # A sparse tensor's metadata and parts (its non-zeros, indices, values).
    r"_nnz|_dimI|_dimV|sparse_dim|dense_dim|_?(indices|values)|(c?row|c?col)_indices"
    r"|ccol_indices|row_indices|_coalesced_?|coalesce|is_coalesced",
    r"(polar|complex|real|imag|view_as_real|view_as_complex|conj|_conj|_neg_view)\w*",
    r"_has_compatible_shallow_copy_type|_fw_primal|_make_dual|_unpack_dual|is_\w+",
    # Metadata reads (a tensor subclass's composite numel dispatches numel again).
    r"numel|size|stride|dim|dense_dim|sparse_dim|storage_offset|output_nr|_nnz|_dim[IV]",
    r"record_stream|_record_function\w*|profiler\w*|_efficientzerotensor|_version",
    # Attention's kernel choice reads shapes and options only.
    r"_fused_sdp_choice",
    r"(dequantize|quantize_per_tensor|quantize_per_channel|q_\w+|int_repr|_make_per_\w+)",
    r"(_?fused_moving_avg_obs_fq_helper|fake_quantize\w*|_fake_quantize\w*)",
    r"(one_hot|_cdist_forward|diag_embed|diag|block_diag|cartesian_prod|meshgrid)",
    # Packing, unpacking and re-laying out weights; index format conversions.
    r"\w*_prepack(_fp16)?(_legacy)?|\w*conv\w*_unpack(_sizes)?|linear_unpack\w*",
    r"mkldnn_reorder_conv[23]d_weight|fbgemm_pack_\w+|fbgemm_linear_quantize_weight",
    r"wrapped_fbgemm_pack_gemm_matrix_fp16|_convert_indices_from_\w+|_cslt_sparse_mm_search",
    r"hamming_window|_standard_gamma(_grad)?|_cummax_helper|_cummin_helper|lgamma_?",
)
# torch.distributed's ops (FSDP all-gathers, tensor-parallel all-reduces...).
_COMMUNICATION_NAMESPACES = frozenset({"c10d", "_c10d_functional", "c10d_functional",
                                       "_c10d_functional_autograd", "_dtensor"})

_ZERO_MAC_PATTERN = re.compile("|".join(f"(?:{family})" for family in _ZERO_MAC_FAMILIES))


@cache
def is_zero_mac(func: OpOverload) -> bool:
    """True when ``func`` is known to be free of multiply-accumulates."""
    if torch.Tag.pointwise in func.tags or func.is_view or func.namespace == "prim":
        return True  # prim ops (device, layout...) only read metadata
    if func.namespace in _COMMUNICATION_NAMESPACES:
        return True  # collectives move data between ranks: no MACs
    return _ZERO_MAC_PATTERN.fullmatch(func.overloadpacket.__name__) is not None
