using static TorchSharp.torch;

namespace Strix.Engine;

/// <summary>Seeds every generator a run uses (Lightning's <c>seed_everything</c>).</summary>
public static class Seeding
{
    /// <summary>Seeds torch's CPU generator and, when present, every CUDA generator.</summary>
    public static void SeedEverything(long seed, bool deterministic)
    {
        manual_seed(seed);
        if (cuda.is_available()) cuda.manual_seed_all(seed);
        SetDeterministic(deterministic);
    }

    /// <summary>
    /// TorchSharp 0.107 does not bind <c>torch.use_deterministic_algorithms</c> (it throws "not
    /// implemented"), so this is what we can do: CPU kernels of libtorch are deterministic for a fixed
    /// thread count (our resume test checks bit-identity on CPU); on CUDA we turn TF32 off. cuDNN's
    /// algorithm choice and atomics can still vary on GPU; set <c>CUBLAS_WORKSPACE_CONFIG=:4096:8</c>
    /// in the environment before starting the process for deterministic cuBLAS.
    /// </summary>
    public static void SetDeterministic(bool deterministic)
    {
        if (!deterministic || !cuda.is_available()) return;
        backends.cuda.matmul.allow_tf32 = false;
        backends.cudnn.allow_tf32 = false;
    }
}
