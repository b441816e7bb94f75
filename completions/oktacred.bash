# bash completion for oktacred(1)                              -*- shell-script -*-
#
# Installed as bash-completion's completions/oktacred (loaded on first use); it also works
# without bash-completion: `source oktacred.bash` from ~/.bashrc.
#
# The commands and options below are those of `oktacred --help` and `oktacred COMMAND
# --help`; tests/integration/test_docs.py keeps them in step. NAME arguments come from
# `oktacred config list --names`, reading the --config FILE given on the line, if any.

# The commands (and aliases), the global options, and the options of each command.
_oktacred_commands='init login logout status whoami refresh token dpop-proof env exec credential-process credential
kubeconfig gcp-config aws-config config version help'
_oktacred_global_options='--config -v --verbose --debug --no-color -h --help --version'

_oktacred_command_options()
{
	case $1 in
	init) printf '%s\n' '--org-url --client-id --authorization-server --name --force' ;;
	login) printf '%s\n' '--force --no-browser --no-qr --flow' ;;
	logout) printf '%s\n' '--all --revoke' ;;
	status | whoami) printf '%s\n' '--json --short' ;;
	refresh) printf '%s\n' '--all' ;;
	token) printf '%s\n' '--id-token --json' ;;
	dpop-proof) printf '%s\n' '--method --url' ;;
	env) printf '%s\n' '--format --unset --role' ;;
	exec) printf '%s\n' '--server --role' ;;
	credential-process) printf '%s\n' '--role' ;;
	aws-config) printf '%s\n' '--write --force' ;;
	credential) printf '%s\n' '--role' ;;
	kubeconfig) printf '%s\n' '--cluster' ;;
	config) printf '%s\n' '--names --json --online' ;;
	esac
}

# The names of the identities and providers, one per line. $1: the --config FILE or "".
_oktacred_names()
{
	local file=$1
	if [[ -n $file ]]; then
		# As typed: undo simple quoting ("f", 'f', f\ g) without eval, which would run
		# whatever $(...) the line holds; a leading ~/ is oktacred's to expand.
		file=${file//\\ / }
		[[ $file == \"*\" || $file == \'*\' ]] && file=${file:1:${#file}-2}
		command oktacred --config "$file" config list --names 2>/dev/null
	else
		command oktacred config list --names 2>/dev/null
	fi
}

# Whether $2 is an identity or a provider of the configuration ($1: --config FILE).
_oktacred_is_name()
{
	local n
	while IFS= read -r n; do
		[[ $n == "$2" ]] && return 0
	done < <(_oktacred_names "$1")
	return 1
}

# Completes exec's CMD: the command line from word $1 on (after `--`, after NAME, or from
# the first word that is not a NAME).
_oktacred_exec_command()
{
	local offset=$1
	if declare -F _comp_command_offset >/dev/null 2>&1; then
		_comp_command_offset "$offset"
	elif declare -F _command_offset >/dev/null 2>&1; then
		_command_offset "$offset"
	elif ((COMP_CWORD == offset)); then
		COMPREPLY=($(compgen -c -- "${COMP_WORDS[COMP_CWORD]}"))
	else
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
	fi
}

_oktacred()
{
	local cur=${COMP_WORDS[COMP_CWORD]} i w cmd= npos=0 endopts=0 expect= cfg=
	local IFS=$' \t\n'
	COMPREPLY=()

	# The words before the cursor: the command, the --config FILE, how many NAMEs,
	# and whether an option is waiting for its value. "--config=FILE" may come as three
	# words ("--config", "=", "FILE") when "=" is in COMP_WORDBREAKS.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -n $expect ]]; then
			[[ $w == = ]] && continue
			[[ $expect == --config ]] && cfg=$w
			expect=
			continue
		fi
		if ((endopts)); then
			((npos++))
			continue
		fi
		case $w in
		--)
			if [[ $cmd == exec ]]; then
				_oktacred_exec_command $((i + 1))
				return 0
			fi
			endopts=1
			;;
		--config) expect=--config ;;
		--config=*) cfg=${w#--config=} ;;
		--format) [[ $cmd == env ]] && expect=--format ;;
		--flow) [[ $cmd == login ]] && expect=--flow ;;
		--org-url | --client-id | --authorization-server | --name) [[ $cmd == init ]] && expect=$w ;;
		--role) [[ $cmd == env || $cmd == exec || $cmd == credential-process || $cmd == credential ]] && expect=--role ;;
		--cluster) [[ $cmd == kubeconfig ]] && expect=--cluster ;;
		--method | --url) [[ $cmd == dpop-proof ]] && expect=$w ;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd=$w
			elif [[ $cmd == exec ]]; then
				# A first word that names a section is NAME; any other starts CMD.
				if ((npos == 0)) && _oktacred_is_name "$cfg" "$w"; then
					npos=1
				else
					_oktacred_exec_command "$i"
					return 0
				fi
			else
				((npos++))
			fi
			;;
		esac
	done

	# The value of an option.
	[[ -n $expect && $cur == = ]] && cur=
	case $expect in
	--config)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
		;;
	--format)
		COMPREPLY=($(compgen -W 'sh fish powershell json dotenv' -- "$cur"))
		return 0
		;;
	--flow)
		COMPREPLY=($(compgen -W 'device browser paste' -- "$cur"))
		return 0
		;;
	--org-url | --client-id | --authorization-server | --name) return 0 ;; # free text
	--role) return 0 ;;    # an ARN, a role name or a group: nothing to offer
	--cluster) return 0 ;; # a kubeconfig cluster's name: free text
	--method)
		COMPREPLY=($(compgen -W 'GET HEAD POST PUT PATCH DELETE OPTIONS' -- "$cur"))
		return 0
		;;
	--url) return 0 ;; # free text
	esac
	if ((!endopts)); then
		case $cur in
		--config=*)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -P --config= -f -- "${cur#*=}"))
			return 0
			;;
		--flow=*)
			[[ $cmd == login ]] &&
				COMPREPLY=($(compgen -P --flow= -W 'device browser paste' -- "${cur#*=}"))
			return 0
			;;
		--format=*)
			[[ $cmd == env ]] &&
				COMPREPLY=($(compgen -P --format= -W 'sh fish powershell json dotenv' -- "${cur#*=}"))
			return 0
			;;
		-*)
			COMPREPLY=($(compgen -W "$_oktacred_global_options $(_oktacred_command_options "$cmd")" -- "$cur"))
			return 0
			;;
		esac
	fi

	# A command, a subcommand or a NAME.
	case $cmd in
	'') COMPREPLY=($(compgen -W "$_oktacred_commands" -- "$cur")) ;;
	help) ((npos == 0)) && COMPREPLY=($(compgen -W "$_oktacred_commands" -- "$cur")) ;;
	config) ((npos == 0)) && COMPREPLY=($(compgen -W 'validate list' -- "$cur")) ;;
	login | token | dpop-proof | env | credential-process | credential | kubeconfig | gcp-config)
		((npos == 0)) && COMPREPLY=($(compgen -W "$(_oktacred_names "$cfg")" -- "$cur"))
		;;
	exec)
		# NAME or CMD first; after NAME, CMD.
		if ((npos == 0)); then
			COMPREPLY=($(compgen -W "$(_oktacred_names "$cfg") --" -- "$cur") $(compgen -c -- "$cur"))
		else
			_oktacred_exec_command "$COMP_CWORD"
		fi
		;;
	logout | status | whoami | refresh | aws-config)
		COMPREPLY=($(compgen -W "$(_oktacred_names "$cfg")" -- "$cur"))
		;;
	esac
	return 0
}

complete -F _oktacred oktacred
