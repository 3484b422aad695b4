# Entry point at the repository root (a shim): the workflow lives in workflow/Snakefile.
# `include:` drops the included file's default target, so it is declared again here.


include: "workflow/Snakefile"


rule default:
    default_target: True
    input:
        rules.all.input,
