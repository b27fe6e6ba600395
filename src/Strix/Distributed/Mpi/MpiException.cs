namespace Strix.Distributed.Mpi;

/// <summary>An MPI call returned an error code. <see cref="Call"/> names the failing function so logs say what broke.</summary>
public sealed class MpiException : Exception
{
    /// <summary>The MPI function that failed, e.g. <c>MPI_Iallreduce</c>.</summary>
    public string Call { get; }
    /// <summary>The MPI error code (see <c>MPI_Error_string</c>).</summary>
    public int ErrorCode { get; }

    public MpiException(string call, int errorCode, string errorText, string? context = null)
        : base($"{call} failed with MPI error {errorCode}: {errorText}{(context is null ? "" : " (" + context + ")")}")
    {
        Call = call;
        ErrorCode = errorCode;
    }
}
