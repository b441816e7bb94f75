# fish completion for oktacred(1)
#
# Installed as fish/vendor_completions.d/oktacred.fish. The commands and options are those
# of `oktacred --help` and `oktacred COMMAND --help`; tests/integration/test_docs.py keeps
# them in step. NAME arguments come from `oktacred config list --names`, reading the
# --config FILE given on the line, if any.

# What the tokens before the cursor say, one per line: the command, how many NAMEs
# follow it, the --config FILE, the index of the first token of exec's CMD (0: none; CMD
# follows "--", or is the first word that is not NAME, a first word that names a section),
# and the option waiting for its value.
function __oktacred_parse
    set -l tokens (commandline -opc)
    set -l cmd ''
    set -l npos 0
    set -l cfg ''
    set -l expect ''
    set -l endopts 0
    set -l dashdash 0
    set -l i 1
    for w in $tokens[2..-1]
        set i (math $i + 1)
        if test -n "$expect"
            test "$expect" = --config; and set cfg $w
            set expect ''
            continue
        end
        if test $endopts = 1
            set npos (math $npos + 1)
            continue
        end
        switch $w
            case --
                if test "$cmd" = exec
                    set dashdash (math $i + 1)
                    break
                end
                set endopts 1
            case --config
                set expect --config
            case '--config=*'
                set cfg (string replace -- --config= '' $w)
            case --format
                test "$cmd" = env; and set expect --format
            case --flow
                test "$cmd" = login; and set expect --flow
            case --role
                contains -- "$cmd" env exec credential-process credential; and set expect --role
            case --cluster
                test "$cmd" = kubeconfig; and set expect --cluster
            case --method --url
                test "$cmd" = dpop-proof; and set expect $w
            case '-*'
            case '*'
                if test -z "$cmd"
                    set cmd $w
                else if test "$cmd" = exec
                    if test $npos = 0; and contains -- $w (__oktacred_config_names $cfg)
                        set npos 1
                    else
                        set dashdash $i
                        break
                    end
                else
                    set npos (math $npos + 1)
                end
        end
    end
    printf '%s\n' "$cmd" $npos "$cfg" $dashdash "$expect"
end

function __oktacred_before_dashdash
    set -l p (__oktacred_parse)
    test $p[4] = 0
end

function __oktacred_after_dashdash
    set -l p (__oktacred_parse)
    test $p[4] != 0
end

function __oktacred_needs_command
    set -l p (__oktacred_parse)
    test -z "$p[1]"; and test $p[4] = 0; and test -z "$p[5]"
end

# __oktacred_using COMMAND...: the command is one of these (options may follow).
function __oktacred_using
    set -l p (__oktacred_parse)
    test $p[4] = 0; and contains -- "$p[1]" $argv
end

# __oktacred_first COMMAND...: the command is one of these and has no argument yet.
function __oktacred_first
    set -l p (__oktacred_parse)
    test $p[4] = 0; and test -z "$p[5]"; and test $p[2] = 0; and contains -- "$p[1]" $argv
end

# Where a NAME may come: the one NAME of login, token, dpop-proof, env, exec, credential-process,
# credential, kubeconfig and gcp-config, any number for the others (logout, status, refresh, aws-config).
function __oktacred_wants_name
    set -l p (__oktacred_parse)
    test $p[4] = 0; or return 1
    test -z "$p[5]"; or return 1
    contains -- "$p[1]" logout status whoami refresh aws-config; and return 0
    test $p[2] = 0; and contains -- "$p[1]" login token dpop-proof env exec credential-process credential kubeconfig gcp-config
end

# The names of the configuration ($argv[1]: the --config FILE, or empty).
function __oktacred_config_names
    if test -n "$argv[1]"
        command oktacred --config $argv[1] config list --names 2>/dev/null
    else
        command oktacred config list --names 2>/dev/null
    end
end

function __oktacred_names
    set -l p (__oktacred_parse)
    __oktacred_config_names "$p[3]"
end

# Where exec's CMD may start: in place of NAME, or after it.
function __oktacred_exec_wants_command
    set -l p (__oktacred_parse)
    test "$p[1]" = exec; and test $p[4] = 0; and test -z "$p[5]"
end

# exec's CMD, completed as a command line of its own.
function __oktacred_exec_command
    set -l p (__oktacred_parse)
    set -l tokens (commandline -opc)
    set -l line (string escape -- $tokens[$p[4]..-1]) (commandline -ct)
    complete -C (string join -- ' ' $line)
end

complete -c oktacred -f

# Global options.
complete -c oktacred -n __oktacred_before_dashdash -l config -r -F -d 'read this configuration file'
complete -c oktacred -n __oktacred_before_dashdash -s v -l verbose -d 'say what is happening'
complete -c oktacred -n __oktacred_before_dashdash -l debug -d 'trace HTTP requests (secrets redacted)'
complete -c oktacred -n __oktacred_before_dashdash -l no-color -d 'no colours'
complete -c oktacred -n __oktacred_before_dashdash -s h -l help -d 'show help'
complete -c oktacred -n __oktacred_before_dashdash -l version -d 'show the version'

# Commands.
complete -c oktacred -n __oktacred_needs_command -a init -d 'write a first configuration (asks what options do not say)'
complete -c oktacred -n __oktacred_needs_command -a login -d 'log in (device code, browser or paste) and cache the tokens'
complete -c oktacred -n __oktacred_needs_command -a logout -d 'delete cached tokens'
complete -c oktacred -n __oktacred_needs_command -a status -d 'who is logged in where'
complete -c oktacred -n __oktacred_needs_command -a whoami -d 'who is logged in where (status)'
complete -c oktacred -n __oktacred_needs_command -a refresh -d 'refresh sessions now'
complete -c oktacred -n __oktacred_needs_command -a token -d 'print a fresh access (or ID) token'
complete -c oktacred -n __oktacred_needs_command -a dpop-proof -d 'a DPoP proof for one request with the access token (dpop = true)'
complete -c oktacred -n __oktacred_needs_command -a env -d 'print the environment for eval'
complete -c oktacred -n __oktacred_needs_command -a exec -d 'run CMD with the environment'
complete -c oktacred -n __oktacred_needs_command -a credential-process -d 'AWS credentials as credential_process JSON'
complete -c oktacred -n __oktacred_needs_command -a aws-config -d 'the ~/.aws/config profiles of the AWS identities'
complete -c oktacred -n __oktacred_needs_command -a credential -d 'the credential in the format its client reads (kubectl: ExecCredential)'
complete -c oktacred -n __oktacred_needs_command -a kubeconfig -d 'the kubeconfig user entry that runs oktacred for kubectl'
complete -c oktacred -n __oktacred_needs_command -a gcp-config -d 'the Google Cloud credential file that runs oktacred'
complete -c oktacred -n __oktacred_needs_command -a config -d 'check or list the configuration'
complete -c oktacred -n __oktacred_needs_command -a version -d 'show the version'
complete -c oktacred -n __oktacred_needs_command -a help -d 'show help'

# Options of each command.
complete -c oktacred -n '__oktacred_using init' -l org-url -x -d 'the Okta org (https://company.okta.com)'
complete -c oktacred -n '__oktacred_using init' -l client-id -x -d 'the client id of the OIDC Native application'
complete -c oktacred -n '__oktacred_using init' -l authorization-server -x -a 'org default' -d 'org, default (the default) or a custom server id'
complete -c oktacred -n '__oktacred_using init' -l name -x -d 'what to call the provider (default: okta)'
complete -c oktacred -n '__oktacred_using init' -l force -d 'replace an existing configuration'
complete -c oktacred -n '__oktacred_using login' -l force -d 'log in again even when the session is valid'
complete -c oktacred -n '__oktacred_using login' -l no-browser -d 'do not open a browser'
complete -c oktacred -n '__oktacred_using login' -l no-qr -d 'do not draw the QR code'
complete -c oktacred -n '__oktacred_using login' -l flow -x -a 'device browser paste' -d 'how to sign in'
complete -c oktacred -n '__oktacred_using logout' -l all -d 'log out of every provider'
complete -c oktacred -n '__oktacred_using logout' -l revoke -d 'also revoke the refresh token at the provider'
complete -c oktacred -n '__oktacred_using status whoami' -l json -d 'machine-readable output'
complete -c oktacred -n '__oktacred_using status whoami' -l short -d 'one line for a shell prompt: NAME and time left (files only)'
complete -c oktacred -n '__oktacred_using refresh' -l all -d 'every provider that has a session'
complete -c oktacred -n '__oktacred_using token' -l id-token -d 'the ID token instead of the access token'
complete -c oktacred -n '__oktacred_using token' -l json -d 'the token with its type and expiry as JSON'
complete -c oktacred -n '__oktacred_using dpop-proof' -l method -x -a 'GET HEAD POST PUT PATCH DELETE OPTIONS' -d "the request's HTTP method (GET, POST, ...)"
complete -c oktacred -n '__oktacred_using dpop-proof' -l url -x -d "the request's URL (query and fragment are left out of the proof)"
complete -c oktacred -n '__oktacred_using env' -l format -x -a 'sh fish powershell json dotenv' -d 'the script language'
complete -c oktacred -n '__oktacred_using env' -l unset -d 'print what undoes an earlier eval'
complete -c oktacred -n '__oktacred_using env exec credential-process credential' -l role -x -d 'AWS: the role to assume (role_map group, role name or ARN)'
complete -c oktacred -n '__oktacred_using exec' -l server -d 'stay as the parent: AWS credentials or an Okta API proxy on loopback'
complete -c oktacred -n '__oktacred_using aws-config' -l write -d 'merge the profiles into the AWS config file (a backup first)'
complete -c oktacred -n '__oktacred_using aws-config' -l force -d '--write: also replace profiles of those names not made by oktacred'
complete -c oktacred -n '__oktacred_using kubeconfig' -l cluster -x -d 'also a context binding the user to this kubeconfig cluster'
complete -c oktacred -n '__oktacred_using config' -l names -d 'list: only the names, one per line'
complete -c oktacred -n '__oktacred_using config' -l json -d 'list: machine-readable output'
complete -c oktacred -n '__oktacred_using config' -l online -d 'validate: also check each provider against its server'

# Arguments.
complete -c oktacred -n __oktacred_wants_name -a '(__oktacred_names)' -d 'identity or provider'
complete -c oktacred -n '__oktacred_first config' -a validate -d 'check the configuration'
complete -c oktacred -n '__oktacred_first config' -a list -d 'list providers and identities'
complete -c oktacred -n '__oktacred_first help' -a 'init login logout status whoami refresh token dpop-proof env exec credential-process credential kubeconfig gcp-config aws-config config version help' -d 'command'
complete -c oktacred -n __oktacred_after_dashdash -a '(__oktacred_exec_command)'
complete -c oktacred -n __oktacred_exec_wants_command -a '(__fish_complete_command)'
